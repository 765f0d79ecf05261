// tests/flows/test_spline_transformer.cpp — RationalQuadraticSplineTransformer used only through
// the Transformer interface (flows/transformers/transformer.hpp): P = 3K - 1 in the blocked
// layout, round trips on image-shaped inputs, the log-derivatives against the diagonal of a
// central-difference Jacobian (whose off-diagonal entries are 0), gradients through forward and
// inverse, a tiny maximum-likelihood fit that has to move the parameters the right way, and
// the constructor's and forward's errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "autograd/optim/adam.hpp"
#include "autograd/grad_mode.hpp"
#include "flows/bijectors/coupling_factories.hpp"
#include "flows/transformers/additive.hpp"
#include "flows/transformers/rational_quadratic_spline.hpp"
#include "tensor/random.hpp"

using namespace fz;

namespace {

template <typename T>
std::unique_ptr<Transformer<T>> make_spline(std::size_t bins, double bound) {
  RationalQuadraticSplineOptions o;
  o.bins = bins;
  o.tail_bound = bound;
  return std::make_unique<RationalQuadraticSplineTransformer<T>>(o);
}

// Conditioner-like parameters for x of shape xs: (B, P k, rest...), N(0, scale^2).
Tensor64 params_for(const Transformer<double>& t, const Shape& xs, double scale, Rng& rng) {
  Shape ps = xs;
  ps[1] *= t.parameters_per_element();
  Tensor64 p(ps);
  for (auto& v : p) v = rng.normal(0.0, scale);
  return p;
}

}  // namespace

TEST_CASE("spline transformer: P = 3K - 1 in the blocked layout, no parameters of its own",
          "[flows][transformer][spline]") {
  for (std::size_t K : {2, 8, 10}) {
    const auto t = make_spline<double>(K, 3.0);
    CHECK(t->parameters_per_element() == 3 * K - 1);
    CHECK(t->param_channel(0, 0, 4) == 0);
    CHECK(t->param_channel(2, 3, 4) == 11);
    CHECK(t->param_channel(3 * K - 2, 1, 4) == (3 * K - 2) * 4 + 1);
    CHECK(t->num_parameters() == 0);
  }
}

TEST_CASE("spline transformer: inverse undoes forward on image-shaped input, log-derivatives "
          "cancel", "[flows][transformer][spline]") {
  Rng rng(41);
  const auto t = make_spline<double>(6, 2.0);
  const Shape xs{2, 3, 4, 5};
  const Tensor64 p = params_for(*t, xs, 1.5, rng);
  Tensor64 x(xs);
  for (auto& v : x) v = rng.uniform(-3.0, 3.0);  // some in the tails
  const Elementwise<double> y = t->forward(Var64(x), Var64(p));
  const Elementwise<double> back = t->inverse(y.value, Var64(p));
  REQUIRE(y.value.shape() == xs);
  REQUIRE(y.log_derivative.shape() == xs);
  bool moved = false;
  for (std::size_t i = 0; i < x.numel(); ++i) {
    CHECK(back.value.value()[i] == Approx(x[i]).margin(1e-10));
    CHECK(back.log_derivative.value()[i] == Approx(-y.log_derivative.value()[i]).margin(1e-9));
    if (std::abs(y.value.value()[i] - x[i]) > 1e-3) moved = true;
  }
  CHECK(moved);  // random parameters do change the values
}

TEST_CASE("spline transformer: log-derivatives are the diagonal of the numeric Jacobian, which "
          "is diagonal", "[flows][transformer][spline]") {
  Rng rng(43);
  const auto t = make_spline<double>(5, 3.0);
  const Shape xs{3, 2, 2};
  const Tensor64 p = params_for(*t, xs, 1.0, rng);
  Tensor64 x(xs);
  for (auto& v : x) v = rng.uniform(-3.5, 3.5);
  for (bool inverse : {false, true}) {
    const auto map = [&](const Tensor64& in) {
      NoGradGuard no_grad;
      return (inverse ? t->inverse(Var64(in), Var64(p)) : t->forward(Var64(in), Var64(p)))
          .value.value();
    };
    const Tensor64 jac = numeric_jacobian(map, x);
    const Tensor64 logd =
        (inverse ? t->inverse(Var64(x), Var64(p)) : t->forward(Var64(x), Var64(p)))
            .log_derivative.value();
    const std::size_t n = x.numel();
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        if (i == j)
          CHECK(std::log(jac[i * n + j]) == Approx(logd[i]).margin(1e-6));
        else
          CHECK(jac[i * n + j] == 0.0);
      }
  }
}

TEST_CASE("spline transformer: gradcheck through forward and inverse",
          "[flows][transformer][spline]") {
  Rng rng(47);
  const auto t = make_spline<double>(4, 2.5);
  const Shape xs{2, 2, 3};
  const Tensor64 p = params_for(*t, xs, 1.0, rng);
  Tensor64 x(xs);
  for (auto& v : x) v = rng.uniform(-3.0, 3.0);
  for (bool inverse : {false, true}) {
    const GradcheckResult r = gradcheck(
        [&](const std::vector<Var64>& v) {
          const Elementwise<double> e = inverse ? t->inverse(v[0], v[1]) : t->forward(v[0], v[1]);
          return e.value * 0.5 + e.log_derivative;
        },
        {x, p});
    INFO((inverse ? "inverse: " : "forward: ") << r.message);
    REQUIRE(r.entries_checked > 0);
    REQUIRE(r.ok);
  }
}

TEST_CASE("spline transformer: a maximum-likelihood fit of one spline lowers the NLL",
          "[flows][transformer][spline]") {
  // Data from a Laplace-like mixture pushed through the spline towards N(0, 1): with
  // z = tau(x), -log p(x) = z^2 / 2 + log sqrt(2 pi) - log tau'(x). The spline's 3K - 1 numbers
  // are one trainable row broadcast over the batch through a multiply by ones.
  Rng rng(53);
  const std::size_t K = 8, n = 256;
  const auto t = make_spline<float>(K, 4.0);
  Tensor32 data({n, 1});
  for (auto& v : data) v = float(rng.bernoulli(0.5) ? rng.normal(-1.5, 0.4) : rng.normal(1.5, 0.4));
  Var32 theta(Tensor32({1, 3 * K - 1}), true);
  const Var32 ones(Tensor32({n, 1}, 1.0f));
  Adam<float> opt({theta}, 0.05);
  auto nll = [&]() {
    const Elementwise<float> z = t->forward(Var32(data), ones * theta);
    return mean(square(z.value) * 0.5f - z.log_derivative) + 0.9189385f;
  };
  float first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    Var32 loss = nll();
    if (step == 0) first = loss.value().item();
    last = loss.value().item();
    loss.backward();
    opt.step();
  }
  INFO("NLL " << first << " -> " << last);
  CHECK(std::isfinite(last));
  CHECK(last < first - 0.3f);
}

TEST_CASE("spline transformer: bad options and parameter shapes are rejected",
          "[flows][transformer][spline]") {
  RationalQuadraticSplineOptions o;
  o.bins = 1;
  CHECK_THROWS_WITH(RationalQuadraticSplineTransformer<double>(o),
                    Catch::Contains("at least 2 bins"));
  o.bins = 4;
  o.tail_bound = -2;
  CHECK_THROWS_WITH(RationalQuadraticSplineTransformer<double>(o),
                    Catch::Contains("tail_bound must be positive"));
  const auto t = make_spline<double>(4, 3.0);
  CHECK_THROWS_WITH(t->forward(Var64(Tensor64({2, 3})), Var64(Tensor64({2, 6}))),
                    Catch::Contains("params must be (2, 33)"));
  CHECK_THROWS_WITH(t->inverse(Var64(Tensor64({2, 3})), Var64(Tensor64({2, 6}))),
                    Catch::Contains("params must be (2, 33)"));
}

TEST_CASE("spline: identity_parameters is the identity, and every zero-initialised coupling factory starts "
          "a spline coupling there", "[flows][spline]") {
  RationalQuadraticSplineOptions o;
  o.bins = 4;
  o.tail_bound = 3.0;
  auto spline = std::make_shared<RationalQuadraticSplineTransformer<double>>(o);
  const std::vector<double> p = spline->identity_parameters();
  REQUIRE(p.size() == 11);
  const double d = std::log(std::expm1(1.0 - o.min_derivative));
  for (std::size_t i = 0; i < p.size(); ++i) CHECK(p[i] == (i < 8 ? 0.0 : d));
  // Laid out for k = 3 channels: parameter i of channel j at i * 3 + j.
  const Tensor64 out = spline->identity_output(3);
  REQUIRE(out.shape() == Shape{33});
  CHECK(out[8 * 3 + 2] == d);
  CHECK(out[7 * 3 + 1] == 0.0);
  // The additive default: all zero.
  const Tensor64 shift = AdditiveTransformer<double>().identity_output(3);
  REQUIRE(shift.numel() == 3);
  for (double v : shift) CHECK(v == 0.0);

  // Each factory's fresh coupling is the identity map (values and log-det), with this spline.
  Rng rng(41);
  const std::vector<std::pair<std::string, std::shared_ptr<Bijector<double>>>> couplings = {
      {"mlp", make_mlp_coupling<double>(4, false, 8, 2, rng, spline, /*zero_init_last=*/true)},
      {"resnet", make_resnet_coupling<double>(2, Partition{PartitionKind::Checkerboard, false}, 4, 1, rng,
                                              /*weight_norm=*/true, std::make_shared<RationalQuadraticSplineTransformer<double>>(o))},
      {"glow", make_glow_coupling<double>(4, 8, rng, std::make_shared<RationalQuadraticSplineTransformer<double>>(o))}};
  NoGradGuard no_grad;
  for (const auto& [name, coupling] : couplings) {
    INFO(name);
    const Shape shape = name == "mlp" ? Shape{5, 4} : Shape{5, name == "glow" ? 4u : 2u, 4, 4};
    const Tensor64 x = rng.normal<double>(shape, 0.0, 1.5);
    const Transformed<double> y = coupling->forward(Var64(x));
    for (std::size_t i = 0; i < x.numel(); ++i) CHECK(std::abs(y.value.value()[i] - x[i]) < 1e-9);
    for (std::size_t i = 0; i < 5; ++i) CHECK(std::abs(y.logdet.value()[i]) < 1e-9);
  }
}
