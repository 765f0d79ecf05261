// tests/flows/test_conditional_flow.cpp — class-conditional flows (flows/class_prior.hpp,
// FlowModel::make_class_conditional, flows/class_scores.hpp): the per-class priors against an
// independent Gaussian formula, zero class embeddings giving the unconditional model, the class
// parameters' gradients by central differences (float64), class_log_probs against one log_prob
// per class, sampling from a class's prior, and Bayes-rule classification after a short
// training on images whose classes differ in brightness. Tiny glows on 1x4x4 images, 3 classes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/ops_elementwise.hpp"
#include "flows/class_scores.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/memory_estimate.hpp"
#include "flows/presets.hpp"
#include "flows/trainer.hpp"
#include "tensor/elementwise.hpp"
#include "tests/flows/tiny_presets.hpp"

using namespace fz;
using namespace fz::testing;

namespace {

constexpr std::size_t kClasses = 3;

PresetConfig conditional(PresetConfig c) {
  c.classes = kClasses;
  return c;
}

// The tiny image models that take class priors: glow (standard-normal top), glow with a learned
// top, realnvp (standard-normal split priors).
std::vector<std::pair<std::string, PresetConfig>> conditional_presets() {
  PresetConfig learned_top = tiny_glow_config();
  learned_top.learn_top = true;
  PresetConfig realnvp;
  realnvp.model = "realnvp";
  realnvp.event_shape = {1, 4, 4};
  realnvp.levels = 1;
  realnvp.hidden = 4;
  realnvp.blocks = 1;
  return {{"glow", tiny_glow_config()}, {"glow learned top", learned_top}, {"realnvp", realnvp}};
}

Tensor64 random_images(std::size_t n, Rng& rng, double lo = 0.02, double hi = 0.98) {
  return rng.uniform<double>({n, 1, 4, 4}, lo, hi);
}

// Gaussian noise of sd `sd` on every class-prior parameter.
void perturb_class_priors(FlowModel<double>& model, Rng& rng, double sd) {
  for (auto& [name, p] : model.named_parameters())
    if (name.find("class_prior") != std::string::npos) {
      Var64 handle = p;
      add_inplace(handle.mutable_value(), rng.normal<double>(p.shape(), 0.0, sd));
    }
}

// sum_j log N(z_j; m_j, exp(s_j)^2) for one sample's row of z against rows of m and s.
double gaussian_log_density(const double* z, const double* m, const double* s, std::size_t n) {
  double total = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const double u = (z[j] - m[j]) / std::exp(s[j]);
    total += -0.5 * u * u - s[j] - 0.5 * std::log(2 * M_PI);
  }
  return total;
}

}  // namespace

TEST_CASE("class prior: log p(latents | y) is the per-class Gaussian formula", "[flows][conditional]") {
  Rng rng(11);
  auto model = make_flow<double>(conditional(tiny_glow_config()), rng);
  REQUIRE(model->classes() == kClasses);
  perturb_class_priors(*model, rng, 0.3);
  const Tensor64 x = random_images(4, rng);
  const IndexTensor labels{{4}, {0, 2, 1, 2}};
  const Encoding<double> enc = model->encode(Var64(x), labels);
  // At initialisation a Glow split's conv is zero, so every latent's prior is N(0, I) moved by
  // its class rows alone: an independent sum over latents, samples and elements.
  REQUIRE(enc.latents.size() == 2);
  for (std::size_t b = 0; b < 4; ++b) {
    double expected = 0;
    for (std::size_t i = 0; i < enc.latents.size(); ++i) {
      ClassPrior<double>& prior = model->class_prior(i);
      const std::size_t per = shape_numel(prior.latent_shape());
      REQUIRE(enc.latents[i].numel() == 4 * per);
      expected += gaussian_log_density(enc.latents[i].value().data() + b * per,
                                       prior.mean().value().data() + labels[b] * per,
                                       prior.log_sd().value().data() + labels[b] * per, per);
    }
    CHECK(enc.latent_log_prob.value()[b] == Approx(expected).epsilon(1e-12));
  }
  // The bijectors' log-det does not see the labels.
  Rng same(11);
  auto unconditional = make_flow<double>(tiny_glow_config(), same);
  const Encoding<double> plain = unconditional->encode(Var64(x));
  for (std::size_t b = 0; b < 4; ++b) CHECK(enc.logdet.value()[b] == Approx(plain.logdet.value()[b]).epsilon(1e-12));
}

TEST_CASE("class prior: the memory estimate counts the class parameters exactly", "[flows][conditional]") {
  for (const auto& [name, config] : conditional_presets()) {
    INFO("preset: " << name);
    Rng rng(1);
    auto model = make_flow<float>(conditional(config), rng);
    CHECK(estimate_memory(resolve_preset(conditional(config)), 8).parameters() == double(model->num_parameters()));
  }
}

TEST_CASE("class prior: zero class embeddings give the unconditional log_prob", "[flows][conditional]") {
  for (const auto& [name, config] : conditional_presets()) {
    INFO("preset: " << name);
    Rng rng_a(5), rng_b(5);
    auto plain = make_flow<double>(config, rng_a);
    auto cond = make_flow<double>(conditional(config), rng_b);
    // The same noise on the shared parameters (the class priors come last), away from Glow's
    // zero-initialised split convs and top; the class embeddings stay zero.
    const auto shared = plain->named_parameters();
    const auto all = cond->named_parameters();
    REQUIRE(all.size() == shared.size() + 4);  // mean and log-sd of one split latent and the top
    Rng noise(6);
    for (std::size_t i = 0; i < shared.size(); ++i) {
      REQUIRE(all[i].first == shared[i].first);
      const Tensor64 e = noise.normal<double>(shared[i].second.shape(), 0.0, 0.05);
      Var64 a = shared[i].second, b = all[i].second;
      add_inplace(a.mutable_value(), e);
      add_inplace(b.mutable_value(), e);
    }
    Rng data(7);
    const Tensor64 x = random_images(5, data);
    const Tensor64 lp_plain = plain->log_prob(Var64(x)).value();
    const Tensor64 lp_cond = cond->log_prob(Var64(x), IndexTensor{{5}, {0, 1, 2, 1, 0}}).value();
    for (std::size_t b = 0; b < 5; ++b) CHECK(lp_cond[b] == Approx(lp_plain[b]).epsilon(1e-12));
    // Without labels a conditional model refuses rather than guessing a class.
    CHECK_THROWS_WITH(cond->log_prob(Var64(x)), Catch::Contains("class-conditional"));
    CHECK_THROWS_WITH(plain->log_prob(Var64(x), IndexTensor{{5}, {0, 0, 0, 0, 0}}), Catch::Contains("not class-conditional"));
    CHECK_THROWS_WITH(cond->log_prob(Var64(x), IndexTensor{{5}, {0, 3, 0, 0, 0}}), Catch::Contains("not in [0, 3)"));
  }
}

TEST_CASE("class prior: gradients of the class parameters match central differences (float64)",
          "[flows][conditional]") {
  for (const auto& [name, config] : conditional_presets()) {
    INFO("preset: " << name);
    Rng rng(21);
    auto model = make_flow<double>(conditional(config), rng);
    for (Var64 p : model->parameters()) add_inplace(p.mutable_value(), rng.normal<double>(p.shape(), 0.0, 0.05));
    TensorU8 pixels({6, 1, 4, 4});
    for (auto& v : pixels) v = static_cast<std::uint8_t>(rng.below(256));
    const Tensor64 x = dequantize<double>(pixels, rng);
    const IndexTensor labels{{6}, {0, 1, 1, 0, 1, 0}};  // class 2 absent: its rows get no gradient
    auto loss = [&] { return bits_per_dim(model->log_prob(Var64(x), labels), model->dims()); };
    model->zero_grad();
    loss().backward();
    std::size_t checked = 0;
    const double eps = 1e-6;
    for (auto& [pname, p] : model->named_parameters()) {
      if (pname.find("class_prior") == std::string::npos) continue;
      const Tensor64 grad = p.grad().defined() ? p.grad().clone() : Tensor64(p.shape(), 0.0);
      Var64 handle = p;
      for (std::size_t j = 0; j < p.numel(); ++j) {
        const double orig = handle.value()[j];
        double up, down;
        {
          NoGradGuard no_grad;
          handle.mutable_value()[j] = orig + eps;
          up = loss().value().item();
          handle.mutable_value()[j] = orig - eps;
          down = loss().value().item();
          handle.mutable_value()[j] = orig;
        }
        const double numeric = (up - down) / (2 * eps);
        INFO(pname << "[" << j << "]: analytic " << grad[j] << ", numeric " << numeric);
        CHECK(std::abs(grad[j] - numeric) <= 1e-8 + 1e-5 * std::abs(numeric));
        if (j >= 2 * p.numel() / kClasses) CHECK(grad[j] == 0.0);  // class 2's rows
        ++checked;
      }
    }
    CHECK(checked == 2 * kClasses * 16);  // mean and log-sd over every latent: D = 16 per class
  }
}

TEST_CASE("class prior: class_log_probs equals log_prob under each class", "[flows][conditional]") {
  Rng rng(31);
  auto model = make_flow<double>(conditional(tiny_glow_config()), rng);
  for (Var64 p : model->parameters()) add_inplace(p.mutable_value(), rng.normal<double>(p.shape(), 0.0, 0.1));
  const Tensor64 x = random_images(4, rng);
  const Tensor64 table = model->class_log_probs(Var64(x));
  REQUIRE(table.shape() == Shape{4, kClasses});
  for (std::size_t k = 0; k < kClasses; ++k) {
    const Tensor64 column = model->log_prob(Var64(x), repeated_class(k, 4)).value();
    for (std::size_t b = 0; b < 4; ++b) CHECK(table[b * kClasses + k] == Approx(column[b]).epsilon(1e-12));
  }
}

TEST_CASE("class prior: samples of class k come from class k's prior", "[flows][conditional]") {
  Rng rng(41);
  auto model = make_flow<double>(conditional(tiny_glow_config()), rng);
  {
    NoGradGuard no_grad;  // ActNorm's data-dependent initialisation first, as training would
    (void)model->log_prob(Var64(random_images(8, rng)), IndexTensor{{8}, {0, 1, 2, 0, 1, 2, 0, 1}});
  }
  model->eval();
  // Top prior: class 1 centred at +2, class 2 at -2, class 0 at 0; all with sd 0.5.
  ClassPrior<double>& top = model->class_prior(1);
  const std::size_t per = shape_numel(top.latent_shape());
  for (std::size_t j = 0; j < per; ++j) {
    top.mean().mutable_value()[1 * per + j] = 2.0;
    top.mean().mutable_value()[2 * per + j] = -2.0;
    for (std::size_t k = 0; k < kClasses; ++k) top.log_sd().mutable_value()[k * per + j] = std::log(0.5);
  }
  for (std::size_t k = 0; k < kClasses; ++k) {
    INFO("class " << k);
    const std::size_t n = 200;
    Rng draw(50 + k);
    auto [x, log_q] = model->sample_with_log_prob(repeated_class(k, n), draw);
    // Encoding the samples gives back the latents they were decoded from.
    const Encoding<double> enc = model->encode(Var64(x), repeated_class(k, n));
    const Tensor64& z = enc.latents.back().value();
    double mean = 0, square = 0;
    for (double v : z) {
      mean += v;
      square += v * v;
    }
    mean /= double(z.numel());
    const double sd = std::sqrt(square / double(z.numel()) - mean * mean);
    const double expected = k == 1 ? 2.0 : k == 2 ? -2.0 : 0.0;
    CHECK(std::abs(mean - expected) < 0.1);  // 1600 draws of sd 0.5: standard error 0.0125
    CHECK(std::abs(sd - 0.5) < 0.05);
    // The sampler's log-density is the model's log p(x | k).
    const Tensor64 lp = enc.log_prob().value();
    for (std::size_t b = 0; b < 5; ++b) CHECK(log_q[b] == Approx(lp[b]).epsilon(1e-6));
  }
  CHECK_THROWS_WITH(model->sample(4, 1.0, rng), Catch::Contains("class-conditional"));
}

TEST_CASE("class scores: Bayes predictions and code lengths against a brute-force computation",
          "[flows][conditional]") {
  // 3 images, 3 classes; image 2 ties classes 0 and 2 (the lower wins).
  const std::vector<double> scores = {-10, -12, -11,  //
                                      -30, -20, -25,  //
                                      -5, -9, -5};
  const std::vector<std::int32_t> labels = {0, 2, 2};
  const std::vector<double> prior = uniform_log_class_prior(3);
  const std::size_t dims = 4;
  const ClassScoreSummary s = summarize_class_scores(scores, labels, prior, dims);
  CHECK(s.predictions == std::vector<std::size_t>{0, 1, 0});
  CHECK(s.accuracy == Approx(1.0 / 3.0));
  double conditional = 0, marginal = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    conditional += bits_per_dim(scores[i * 3 + labels[i]], dims);
    double p = 0;
    for (std::size_t k = 0; k < 3; ++k) p += std::exp(scores[i * 3 + k]) / 3.0;
    marginal += bits_per_dim(std::log(p), dims);
  }
  CHECK(s.conditional_bpd == Approx(conditional / 3).epsilon(1e-12));
  CHECK(s.marginal_bpd == Approx(marginal / 3).epsilon(1e-12));
  // A non-uniform prior moves a decision: image 0 with p(1) large.
  const std::vector<double> skewed = {std::log(0.01), std::log(0.98), std::log(0.01)};
  CHECK(bayes_prediction(scores.data(), skewed) == 1);
  CHECK_THROWS_WITH(summarize_class_scores(scores, {0, 3, 1}, prior, dims), Catch::Contains("not in [0, 3)"));
  CHECK_THROWS(summarize_class_scores({1, 2}, labels, prior, dims));
}

TEST_CASE("class prior: a short training separates dark, grey and bright images (Bayes accuracy)",
          "[flows][conditional]") {
  // Class k's pixels around 30, 128 and 225 (+-20): separable by brightness alone.
  Rng rng(61);
  const std::size_t n = 96;
  TensorU8 pixels({n, 1, 4, 4});
  std::vector<std::int32_t> labels(n);
  const int centre[kClasses] = {30, 128, 225};
  for (std::size_t i = 0; i < n; ++i) {
    labels[i] = static_cast<std::int32_t>(i % kClasses);
    for (std::size_t j = 0; j < 16; ++j)
      pixels[i * 16 + j] = static_cast<std::uint8_t>(centre[labels[i]] - 20 + static_cast<int>(rng.below(41)));
  }
  Rng init(62);
  auto model = make_flow<float>(conditional(tiny_glow_config()), init);
  TrainerOptions o;
  o.lr = 1e-2;
  Trainer<float> trainer(model, o, 63);
  for (int step = 0; step < 120; ++step) {
    const std::size_t begin = (step * 32) % n;
    TensorU8 batch({32, 1, 4, 4});
    std::vector<std::int32_t> y(32);
    for (std::size_t i = 0; i < 32; ++i) {
      const std::size_t src = (begin + i) % n;
      for (std::size_t j = 0; j < 16; ++j) batch[i * 16 + j] = pixels[src * 16 + j];
      y[i] = labels[src];
    }
    const StepStats s = trainer.step_images(batch, y);
    REQUIRE(std::isfinite(s.loss));
  }
  const std::vector<double> scores = trainer.evaluate_class_log_probs(pixels, 40, 9);
  REQUIRE(scores.size() == n * kClasses);
  const ClassScoreSummary summary =
      summarize_class_scores(scores, labels, uniform_log_class_prior(kClasses), model->dims());
  INFO("accuracy " << summary.accuracy << ", conditional bpd " << summary.conditional_bpd << ", marginal "
                   << summary.marginal_bpd);
  CHECK(summary.accuracy >= 0.95);
  // p(x) = sum_k p(x | k) / 3 lies between max_k p(x | k) / 3 and max_k p(x | k); it is at least
  // p(x | y) / 3, so the marginal costs at most log2(3) bits per image more than the conditional.
  double best_bpd = 0;
  for (std::size_t i = 0; i < n; ++i)
    best_bpd += bits_per_dim(*std::max_element(scores.begin() + long(i * kClasses), scores.begin() + long((i + 1) * kClasses)),
                             model->dims());
  best_bpd /= double(n);
  CHECK(summary.marginal_bpd >= best_bpd - 1e-9);
  CHECK(summary.marginal_bpd <= best_bpd + std::log2(3.0) / 16 + 1e-9);
  CHECK(summary.marginal_bpd <= summary.conditional_bpd + std::log2(3.0) / 16 + 1e-9);
  // The true class's column is evaluate_images' -log p(x | y) on the same dequantization draw.
  CHECK(trainer.evaluate_images(pixels, labels, 40, 9) == Approx(summary.conditional_bpd).epsilon(1e-5));
}
