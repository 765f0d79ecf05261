// tests/flows/test_autoregressive.cpp — MADE (flows/conditioners/made.hpp) and the MAF/IAF
// layers (flows/bijectors/masked_autoregressive.hpp), float64 unless noted:
//   - MADE's autoregressive property, d out_{p,i} / d x_j == 0 exactly unless
//     degree(j) < degree(i): by central differences of the network, by the connectivity the
//     masks allow, and by the gradients masked weights receive; natural and random orders,
//     plain and residual;
//   - the order survives a state-dict round trip (masks rebuilt from the "order" buffer);
//   - MAF and IAF round trips, log-dets against log|det| of the finite-difference Jacobian,
//     the Jacobian triangular in the order, IAF being MAF's inverse map, and the number of
//     MADE passes each direction records (1 fast, D slow);
//   - make_maf on two moons: a few hundred Adam steps lower the test NLL.
// The general bijector checks (gradients, edge values) run on the MAF/IAF entries of the
// conformance list (tests/flows/bijector_registry.cpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "datasets/toy2d.hpp"
#include "flows/bijectors/masked_autoregressive.hpp"
#include "flows/conditioners/made.hpp"
#include "flows/distributions/distribution.hpp"
#include "flows/flow_model.hpp"
#include "flows/trainer.hpp"
#include "flows/transformers/affine.hpp"
#include "tensor/linalg.hpp"
#include "tests/flows/affine_transformer_fixture.hpp"
#include "tensor/reference_mode.hpp"

using namespace fz;
using fz::testing::InterleavedAffineFixture;

namespace {

struct MadeVariant {
  std::string name;
  bool random_order;
  bool residual;
};

const std::vector<MadeVariant> kVariants = {
    {"natural order, plain", false, false},
    {"random order, plain", true, false},
    {"natural order, residual", false, true},
    {"random order, residual", true, true},
};

std::shared_ptr<MADE<double>> make_made(const MadeVariant& v, std::size_t d, Rng& rng,
                                        bool zero_init_last = false) {
  MadeConfig config;
  config.features = d;
  config.hidden = 16;
  config.n_hidden = 2;
  config.residual = v.residual;
  config.zero_init_last = zero_init_last;
  const std::vector<std::size_t> order = v.random_order ? rng.permutation(d) : natural_order(d);
  return made_for_transformer<double>(config, order, std::make_shared<InterleavedAffineFixture<double>>(), rng);
}

// Boolean matrix product: out[o, i] = 1 if some k has a[o, k] and b[k, i].
std::vector<std::vector<int>> reach(const Tensor64& a, const std::vector<std::vector<int>>& b) {
  const std::size_t rows = a.shape()[0], inner = a.shape()[1], cols = b[0].size();
  REQUIRE(b.size() == inner);
  std::vector<std::vector<int>> out(rows, std::vector<int>(cols, 0));
  for (std::size_t o = 0; o < rows; ++o)
    for (std::size_t k = 0; k < inner; ++k)
      if (a[o * inner + k] != 0.0)
        for (std::size_t i = 0; i < cols; ++i) out[o][i] |= b[k][i];
  return out;
}

// Which inputs each output can reach through the masks, following the architecture of
// made.hpp (plain stack, or residual blocks with their skips).
std::vector<std::vector<int>> mask_connectivity(MADE<double>& made) {
  const std::vector<Tensor64> masks = made.masks();
  const std::size_t d = made.config().features;
  std::vector<std::vector<int>> r(d, std::vector<int>(d, 0));
  for (std::size_t i = 0; i < d; ++i) r[i][i] = 1;
  r = reach(masks[0], r);
  if (!made.config().residual) {
    for (std::size_t l = 1; l < masks.size(); ++l) r = reach(masks[l], r);
    return r;
  }
  for (std::size_t b = 0; b < made.config().n_hidden; ++b) {
    const auto through = reach(masks[2 + 2 * b], reach(masks[1 + 2 * b], r));
    for (std::size_t u = 0; u < r.size(); ++u)
      for (std::size_t i = 0; i < d; ++i) r[u][i] |= through[u][i];
  }
  return reach(masks.back(), r);
}

double max_abs_diff(const Tensor64& a, const Tensor64& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

Tensor64 row(const Tensor64& x, std::size_t b) {
  const std::size_t d = x.shape()[1];
  Tensor64 out({1, d});
  std::copy(x.begin() + b * d, x.begin() + (b + 1) * d, out.begin());
  return out;
}

}  // namespace

TEST_CASE("made: outputs depend only on inputs of smaller degree (differences, masks, gradients)",
          "[flows][autoregressive]") {
  const std::size_t d = 5, p = 2;
  for (const MadeVariant& v : kVariants) {
    SECTION(v.name) {
      Rng rng(21);
      auto made = make_made(v, d, rng);
      const std::vector<std::size_t> in_deg = made->input_degrees(), out_deg = made->output_degrees();
      REQUIRE(out_deg.size() == p * d);
      // The layout is the fixture's interleaved one: column 2j + q carries dimension j's degree.
      for (std::size_t j = 0; j < d; ++j)
        for (std::size_t q = 0; q < p; ++q) CHECK(out_deg[2 * j + q] == in_deg[j]);
      // Degrees follow the order: order[k] has degree k + 1.
      const std::vector<std::size_t> order = made->order();
      for (std::size_t k = 0; k < d; ++k) CHECK(in_deg[order[k]] == k + 1);
      if (v.random_order) CHECK(order != natural_order(d));
      for (std::size_t h : made->hidden_degrees()) CHECK((h >= 1 && h <= d - 1));

      // 1. Central differences of the network at random points: exactly zero where forbidden
      //    at every point, and (generic weights) nonzero for every allowed pair at one point at
      //    least (at a single point a pair's ReLU paths may all be inactive).
      NoGradGuard no_grad;
      std::vector<int> seen(p * d * d, 0);
      for (int point = 0; point < 4; ++point) {
        const Tensor64 x = rng.uniform<double>({1, d}, -2.0, 2.0);
        const Tensor64 jac = numeric_jacobian([&](const Tensor64& in) { return made->forward(Var64(in)).value(); }, x);
        REQUIRE(jac.shape() == Shape{p * d, d});
        for (std::size_t c = 0; c < p * d; ++c)
          for (std::size_t j = 0; j < d; ++j) {
            INFO("output " << c << " (degree " << out_deg[c] << "), input " << j << " (degree " << in_deg[j] << ")");
            if (in_deg[j] >= out_deg[c]) CHECK(jac[c * d + j] == 0.0);
            seen[c * d + j] |= jac[c * d + j] != 0.0;
          }
      }
      std::size_t allowed = 0, allowed_seen = 0;
      for (std::size_t c = 0; c < p * d; ++c)
        for (std::size_t j = 0; j < d; ++j)
          if (in_deg[j] < out_deg[c]) {
            ++allowed;
            allowed_seen += seen[c * d + j];
          }
      REQUIRE(allowed == p * d * (d - 1) / 2);
      CHECK(allowed_seen == allowed);

      // 2. The masks connect output c to input j exactly when degree(j) < degree(c).
      const auto conn = mask_connectivity(*made);
      for (std::size_t c = 0; c < p * d; ++c)
        for (std::size_t j = 0; j < d; ++j) {
          INFO("mask path from input " << j << " to output " << c);
          CHECK(conn[c][j] == (in_deg[j] < out_deg[c] ? 1 : 0));
        }
    }
  }
}

TEST_CASE("made: masked weights get exactly zero gradient, the others match central differences",
          "[flows][autoregressive]") {
  Rng rng(22);
  auto made = make_made({"random, residual", true, true}, 4, rng);
  const Tensor64 x = rng.uniform<double>({3, 4}, -1.5, 1.5);
  const Tensor64 w = rng.normal<double>({3, 8});
  made->zero_grad();
  sum(made->forward(Var64(x)) * Var64(w)).backward();
  std::map<std::string, Tensor64> grads;  // before gradcheck's reverse passes add to them
  for (auto& [name, param] : made->named_parameters()) {
    REQUIRE(param.grad().defined());
    grads[name] = param.grad().clone();
  }
  const std::vector<Tensor64> masks = made->masks();
  std::size_t l = 0, masked_entries = 0;
  for (auto& [name, param] : made->named_parameters()) {
    if (name.rfind("weight", 0) != 0) continue;
    const Tensor64& g = grads[name];
    for (std::size_t i = 0; i < g.numel(); ++i)
      if (masks[l][i] == 0.0) {
        CHECK(g[i] == 0.0);
        ++masked_entries;
      }
    ++l;
  }
  CHECK(l == masks.size());
  CHECK(masked_entries > 0);
  // Input gradients by the full-Jacobian gradcheck; every entry of the first and last weights
  // by central differences (masked entries: the loss does not move at all).
  const GradcheckResult r = gradcheck(
      [&](const std::vector<Var64>& in) { return sum(made->forward(in[0]) * Var64(w)); }, {x});
  INFO(r.message);
  CHECK(r.ok);
  auto loss_value = [&] {
    NoGradGuard no_grad;
    return sum(made->forward(Var64(x)) * Var64(w)).value().item();
  };
  const auto named = made->named_parameters();
  for (const std::string& wanted : {std::string("weight0"), "weight" + std::to_string(masks.size() - 1)}) {
    for (auto [name, param] : named) {
      if (name != wanted) continue;
      const Tensor64& g = grads[name];
      for (std::size_t i = 0; i < g.numel(); ++i) {
        const double orig = param.value()[i], eps = 1e-6;
        param.mutable_value()[i] = orig + eps;
        const double lp = loss_value();
        param.mutable_value()[i] = orig - eps;
        const double lm = loss_value();
        param.mutable_value()[i] = orig;
        const double numeric = (lp - lm) / (2 * eps);
        INFO(name << "[" << i << "]: analytic " << g[i] << " numeric " << numeric);
        CHECK(std::abs(g[i] - numeric) <= 1e-6 + 1e-5 * std::abs(numeric));
      }
    }
  }
}

TEST_CASE("made: zero_init_last starts at zero; no hidden layer; the order is restored from the state dict; bad input", "[flows][autoregressive]") {
  Rng rng(23);
  NoGradGuard no_grad;
  auto zero = make_made({"random", true, false}, 6, rng, /*zero_init_last=*/true);
  const Tensor64 x = rng.uniform<double>({4, 6}, -2.0, 2.0);
  CHECK(max_abs_diff(zero->forward(Var64(x)).value(), Tensor64({4, 12})) == 0.0);

  auto a = make_made({"random", true, true}, 6, rng);
  auto b = make_made({"random", true, true}, 6, rng);
  REQUIRE(a->order() != b->order());
  const Tensor64 ya = a->forward(Var64(x)).value();
  CHECK(max_abs_diff(ya, b->forward(Var64(x)).value()) > 1e-3);
  b->load_state_dict(a->state_dict());
  CHECK(b->order() == a->order());
  CHECK(max_abs_diff(b->forward(Var64(x)).value(), ya) == 0.0);

  // No hidden layer: one strictly masked linear map, so every allowed pair is connected.
  MadeConfig direct;
  direct.features = 4;
  direct.n_hidden = 0;
  direct.params_per_dim = 3;
  MADE<double> linear_made(direct, rng.permutation(4), rng);
  REQUIRE(linear_made.masks().size() == 1);
  const std::vector<std::size_t> in_deg = linear_made.input_degrees(), out_deg = linear_made.output_degrees();
  const Tensor64 jac = numeric_jacobian([&](const Tensor64& in) { return linear_made.forward(Var64(in)).value(); },
                                        rng.normal<double>({1, 4}));
  for (std::size_t c = 0; c < 12; ++c)
    for (std::size_t j = 0; j < 4; ++j) CHECK((jac[c * 4 + j] != 0.0) == (in_deg[j] < out_deg[c]));

  MadeConfig bad;
  bad.features = 3;
  bad.params_per_dim = 2;
  CHECK_THROWS_WITH(MADE<double>(bad, {0, 2, 2}, rng), Catch::Contains("not a permutation"));
  CHECK_THROWS_WITH(MADE<double>(bad, {0, 1}, rng), Catch::Contains("2 entries for 3 features"));
  CHECK_THROWS_WITH(a->forward(Var64(Tensor64({2, 5}))), Catch::Contains("expected input (B, 6)"));
}

namespace {

std::shared_ptr<AutoregressiveLayer<double>> make_layer(bool iaf, const MadeVariant& v, std::size_t d, Rng& rng) {
  auto tau = std::make_shared<InterleavedAffineFixture<double>>();
  MadeConfig config;
  config.features = d;
  config.hidden = 12;
  config.n_hidden = 2;
  config.residual = v.residual;
  const std::vector<std::size_t> order = v.random_order ? rng.permutation(d) : natural_order(d);
  auto made = made_for_transformer<double>(config, order, tau, rng);
  if (iaf) return std::make_shared<InverseAutoregressiveFlow<double>>(made, tau);
  return std::make_shared<MaskedAutoregressiveFlow<double>>(made, tau);
}

}  // namespace

TEST_CASE("maf and iaf: round trip, log-det against the finite-difference Jacobian, triangular in the order",
          "[flows][autoregressive]") {
  const std::size_t d = 4;
  for (bool iaf : {false, true})
    for (const MadeVariant& v : kVariants) {
      SECTION(std::string(iaf ? "IAF, " : "MAF, ") + v.name) {
        Rng rng(31);
        auto layer = make_layer(iaf, v, d, rng);
        NoGradGuard no_grad;
        const Tensor64 x = rng.uniform<double>({3, d}, -2.0, 2.0);
        const Transformed<double> fwd = layer->forward(Var64(x));
        const Transformed<double> back = layer->inverse(fwd.value);
        CHECK(max_abs_diff(back.value.value(), x) < 1e-10);
        CHECK(max_abs_diff(add(fwd.logdet.value(), back.logdet.value()), Tensor64({3})) < 1e-10);
        const std::vector<std::size_t> order = layer->order();
        std::vector<int> seen(d * d, 0);  // (row, column) nonzero in some sample
        for (std::size_t b = 0; b < 3; ++b) {
          INFO("sample " << b);
          const Tensor64 jac = numeric_jacobian(
              [&](const Tensor64& in) { return layer->forward(Var64(in)).value.value(); }, row(x, b));
          const auto det = slogdet(jac);
          CHECK(det.sign != 0.0);
          CHECK(std::abs(det.logabsdet - fwd.logdet.value()[b]) < 1e-6);
          // Row order[a], column order[c]: output a of the order never sees a later input c.
          for (std::size_t a = 0; a < d; ++a)
            for (std::size_t c = a + 1; c < d; ++c) CHECK(jac[order[a] * d + order[c]] == 0.0);
          for (std::size_t i = 0; i < d * d; ++i) seen[i] |= jac[i] != 0.0;
        }
        // ... and does see every earlier one (generic parameters; a ReLU path may be dead at
        // one point, so over the three samples).
        std::size_t below = 0;
        for (std::size_t a = 0; a < d; ++a)
          for (std::size_t c = 0; c < a; ++c) below += seen[order[a] * d + order[c]];
        CHECK(below == d * (d - 1) / 2);
      }
    }
}

TEST_CASE("iaf: its density direction is MAF's sampling map with the same MADE", "[flows][autoregressive]") {
  Rng rng(32);
  auto tau = std::make_shared<InterleavedAffineFixture<double>>();
  MadeConfig config;
  config.features = 5;
  config.hidden = 10;
  config.n_hidden = 1;
  auto made = made_for_transformer<double>(config, rng.permutation(5), tau, rng);
  MaskedAutoregressiveFlow<double> maf(made, tau);
  InverseAutoregressiveFlow<double> iaf(made, tau);
  NoGradGuard no_grad;
  const Tensor64 x = rng.normal<double>({6, 5});
  const Transformed<double> a = iaf.forward(Var64(x)), b = maf.inverse(Var64(x));
  CHECK(max_abs_diff(a.value.value(), b.value.value()) == 0.0);
  CHECK(max_abs_diff(a.logdet.value(), b.logdet.value()) == 0.0);
  const Transformed<double> c = iaf.inverse(Var64(x)), e = maf.forward(Var64(x));
  CHECK(max_abs_diff(c.value.value(), e.value.value()) == 0.0);

  // A transformer whose parameter count differs from the MADE's is refused.
  config.params_per_dim = 3;
  auto wrong = std::make_shared<MADE<double>>(config, natural_order(5), rng);
  CHECK_THROWS_WITH(MaskedAutoregressiveFlow<double>(wrong, tau), Catch::Contains("needs 2"));
  // A MADE in the blocked layout feeding the fixture's interleaved one is refused too.
  config.params_per_dim = 2;
  auto blocked = std::make_shared<MADE<double>>(config, natural_order(5), rng);
  CHECK_THROWS_WITH(InverseAutoregressiveFlow<double>(blocked, tau), Catch::Contains("does not have that dimension's degree"));
  CHECK_THROWS_WITH(maf.forward(Var64(Tensor64({2, 4}))), Catch::Contains("expected input (B, 5)"));
}

TEST_CASE("make_maf: starts as the identity, reverses between layers, and learns two moons",
          "[flows][autoregressive]") {
  Rng rng(41);
  // The library's affine transformer (RealNVP's tanh log-scale; flows/transformers/affine.hpp).
  TransformerFactory<float> affine = [] { return std::make_shared<AffineTransformer<float>>(2, false); };
  auto chain = make_maf<float>(2, 4, 32, 2, affine, rng);
  REQUIRE(chain->size() == 7);  // MAF, Reverse, MAF, Reverse, MAF, Reverse, MAF
  for (std::size_t i = 0; i < chain->size(); ++i)
    CHECK((*chain)[i]->type_name() == (i % 2 == 0 ? "MaskedAutoregressiveFlow" : "Reverse"));
  {
    // Zero-initialised output maps: every layer is the identity; the reversals cancel in pairs
    // except the last one, so the whole chain is one reversal with log-det 0.
    NoGradGuard no_grad;
    Tensor<float> x({3, 2}, {1.f, 2.f, -3.f, 0.5f, 0.f, 7.f});
    const Transformed<float> t = chain->forward(Var<float>(x));
    for (std::size_t b = 0; b < 3; ++b) {
      CHECK(t.value.value()[2 * b] == x[2 * b + 1]);
      CHECK(t.value.value()[2 * b + 1] == x[2 * b]);
      CHECK(t.logdet.value()[b] == 0.0f);
    }
  }
  auto model = std::make_shared<FlowModel<float>>(Shape{2}, nullptr,
                                                  std::vector<FlowModel<float>::Scale>{{chain, nullptr}},
                                                  std::make_shared<StandardNormal<float>>());
  TrainerOptions options;
  options.lr = 3e-3;
  Trainer<float> trainer(model, options, 5);
  const Tensor<float> test = sample_toy2d<float>(Toy2D::Moons, 1000, 999);
  const double before = trainer.evaluate_continuous(test, 500);
  for (std::size_t s = 0; s < 300; ++s) trainer.step_continuous(sample_toy2d<float>(Toy2D::Moons, 128, 1000 + s));
  const double after = trainer.evaluate_continuous(test, 500);
  INFO("two moons test NLL: before " << before << ", after 300 steps " << after);
  CHECK(std::isfinite(after));
  CHECK(after < before - 0.5);
  CHECK(after < 1.0);
  // Samples (D passes per MAF layer) score to finite log-densities that agree with log_prob.
  NoGradGuard no_grad;
  Rng sample_rng(6);
  const auto [samples, log_q] = model->sample_with_log_prob(64, sample_rng);
  const Tensor<float> lp = model->log_prob(Var<float>(samples)).value();
  double worst = 0;
  for (std::size_t i = 0; i < 64; ++i) worst = std::max(worst, double(std::abs(lp[i] - log_q[i])));
  CHECK(worst < 1e-3);
}

TEST_CASE("maf and iaf: one MADE pass in the fast direction, D in the slow one", "[flows][autoregressive]") {
  const ReferenceOpsScope fused(false);  // counts the fused ops' tape nodes
  const std::size_t d = 6;
  Rng rng(33);
  // Count the MADE output maps ("linear" nodes; hidden maps are fused "linear_relu") that a
  // call records on the tape.
  auto passes = [](const std::function<void()>& run) {
    Tape<double>& tape = Tape<double>::current();
    tape.clear();
    run();
    std::size_t n = 0;
    for (const auto& node : tape.nodes()) n += std::string(node.op) == "linear";
    tape.clear();
    return n;
  };
  for (bool iaf : {false, true}) {
    auto layer = make_layer(iaf, {"random, plain", true, false}, d, rng);
    const Var64 x(rng.normal<double>({2, d}));
    const std::size_t fwd = passes([&] { layer->forward(x); });
    const std::size_t inv = passes([&] { layer->inverse(x); });
    INFO((iaf ? "IAF" : "MAF") << ": forward " << fwd << " passes, inverse " << inv);
    CHECK(fwd == (iaf ? d : 1));
    CHECK(inv == (iaf ? 1 : d));
  }
}
