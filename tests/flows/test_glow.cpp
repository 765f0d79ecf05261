// tests/flows/test_glow.cpp — focused tests of the Glow layers beyond the generic conformance
// checks: ActNorm's data-dependent initialisation and its persistence, the LU and plain 1x1
// convolutions against hand-built matrices, the coupling at initialisation, channel_affine's
// gradients, and the parameter count of one glow-fmnist step.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "flows/bijectors/actnorm.hpp"
#include "flows/bijectors/coupling_factories.hpp"
#include "flows/bijectors/invertible_conv1x1.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/linalg.hpp"

using namespace fz;

namespace {

double max_abs_diff(const Tensor64& a, const Tensor64& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

void perturb(Module<double>& m, Rng& rng, double sd) {
  for (Var64 p : m.parameters()) add_inplace(p.mutable_value(), rng.normal<double>(p.shape(), 0.0, sd));
}

// Per-channel mean and population sd of a (B, C, ...) tensor.
void channel_moments(const Tensor64& x, std::vector<double>& mean, std::vector<double>& sd) {
  const std::size_t B = x.shape()[0], C = x.shape()[1], inner = x.numel() / (B * C);
  mean.assign(C, 0.0);
  sd.assign(C, 0.0);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < inner; ++i) mean[c] += x[(b * C + c) * inner + i];
  for (double& m : mean) m /= double(B * inner);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < inner; ++i) {
        const double d = x[(b * C + c) * inner + i] - mean[c];
        sd[c] += d * d;
      }
  for (double& s : sd) s = std::sqrt(s / double(B * inner));
}

// y[b, :, p] = W x[b, :, p], by loops.
Tensor64 apply_matrix(const Tensor64& W, const Tensor64& x) {
  const std::size_t B = x.shape()[0], C = x.shape()[1], inner = x.numel() / (B * C);
  Tensor64 y(x.shape());
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t i = 0; i < C; ++i)
      for (std::size_t p = 0; p < inner; ++p) {
        double s = 0;
        for (std::size_t j = 0; j < C; ++j) s += W[i * C + j] * x[(b * C + j) * inner + p];
        y[(b * C + i) * inner + p] = s;
      }
  return y;
}

}  // namespace

TEST_CASE("glow: ActNorm initialises to zero mean and unit sd per channel", "[flows][glow]") {
  Rng rng(7);
  for (const Shape& shape : {Shape{5, 3, 4, 4}, Shape{40, 6}}) {
    INFO("shape " << shape_str(shape));
    ActNorm<double> an(shape[1]);
    CHECK_FALSE(an.initialised());
    // Channels with very different offsets and spreads.
    Tensor64 x = rng.normal<double>(shape);
    const std::size_t C = shape[1], inner = x.numel() / (shape[0] * C);
    for (std::size_t i = 0; i < x.numel(); ++i) {
      const std::size_t c = (i / inner) % C;
      x[i] = x[i] * (0.5 + 2.0 * double(c)) + 3.0 * double(c) - 4.0;
    }
    an.train();
    Transformed<double> out = an.forward(Var64(x));
    CHECK(an.initialised());
    std::vector<double> mean, sd;
    channel_moments(out.value.value(), mean, sd);
    for (std::size_t c = 0; c < C; ++c) {
      CHECK(std::abs(mean[c]) < 1e-12);
      CHECK(std::abs(sd[c] - 1.0) < 1e-5);
    }
    // log-det = H W sum(logs) = -H W sum(log sd_in)
    std::vector<double> mean_in, sd_in;
    channel_moments(x, mean_in, sd_in);
    double expected = 0;
    for (double s : sd_in) expected -= double(inner) * std::log(s);
    CHECK(std::abs(out.logdet.value()[0] - expected) < 1e-4);
    CHECK(out.logdet.value()[0] == out.logdet.value()[shape[0] - 1]);

    // A second training batch does not re-initialise.
    const Tensor64 logs = an.parameter("logs").value().clone();
    an.forward(Var64(rng.normal<double>(shape, 10.0, 5.0)));
    CHECK(max_abs_diff(an.parameter("logs").value(), logs) == 0.0);
  }

  // Eval mode never initialises.
  ActNorm<double> frozen(3);
  frozen.eval();
  const Tensor64 x = rng.normal<double>({2, 3, 2, 2}, 5.0, 3.0);
  CHECK(max_abs_diff(frozen.forward(Var64(x)).value.value(), x) == 0.0);
  CHECK_FALSE(frozen.initialised());
}

TEST_CASE("glow: a restored ActNorm is not re-initialised", "[flows][glow]") {
  Rng rng(8);
  ActNorm<double> a(4);
  a.train();
  a.forward(Var64(rng.normal<double>({3, 4, 3, 3}, 1.0, 2.0)));
  REQUIRE(a.initialised());
  StateDict<double> saved;
  for (const auto& [name, t] : a.state_dict()) saved.insert(name, t.clone());
  CHECK(saved.contains("initialised"));
  CHECK(saved.at("initialised")[0] == 1.0);

  ActNorm<double> b(4);
  b.load_state_dict(saved);
  CHECK(b.initialised());
  b.train();
  const Tensor64 x = rng.normal<double>({2, 4, 3, 3}, -3.0, 0.1);  // would give very different stats
  Transformed<double> ya = a.forward(Var64(x)), yb = b.forward(Var64(x));
  CHECK(max_abs_diff(yb.value.value(), ya.value.value()) == 0.0);
  CHECK(max_abs_diff(b.parameter("bias").value(), saved.at("bias")) == 0.0);
  CHECK(max_abs_diff(b.parameter("logs").value(), saved.at("logs")) == 0.0);

  // The same holds for the layer form inside a coupling network.
  auto c1_ptr = make_glow_coupling<double>(4, 6, rng), c2_ptr = make_glow_coupling<double>(4, 6, rng);
  Coupling<double>& c1 = *c1_ptr;
  Coupling<double>& c2 = *c2_ptr;
  c1.train();
  c1.forward(Var64(rng.normal<double>({2, 4, 3, 3})));
  REQUIRE(c1.net()->has_parameter("conv1_weight"));
  StateDict<double> saved_c;
  for (const auto& [name, t] : c1.state_dict()) saved_c.insert(name, t.clone());
  CHECK(saved_c.at("net.actnorm1.initialised")[0] == 1.0);
  CHECK(saved_c.at("net.actnorm2.initialised")[0] == 1.0);
  c2.load_state_dict(saved_c);
  c2.train();
  const Tensor64 x2 = rng.normal<double>({2, 4, 3, 3}, 2.0, 0.3);
  CHECK(max_abs_diff(c2.forward(Var64(x2)).value.value(), c1.forward(Var64(x2)).value.value()) == 0.0);
}

TEST_CASE("glow: ActNormLayer normalises the hidden activations it sees first", "[flows][glow]") {
  Rng rng(9);
  ActNormLayer<double> layer(5);
  layer.train();
  const Tensor64 x = rng.normal<double>({3, 5, 4, 4}, 2.0, 3.0);
  const Tensor64 y = layer.forward(Var64(x)).value();
  CHECK(layer.initialised());
  std::vector<double> mean, sd;
  channel_moments(y, mean, sd);
  for (std::size_t c = 0; c < 5; ++c) {
    CHECK(std::abs(mean[c]) < 1e-12);
    CHECK(std::abs(sd[c] - 1.0) < 1e-5);
  }
  CHECK(layer.num_parameters() == 10);
}

TEST_CASE("glow: LU 1x1 conv weight is P L U and its log-det is H W log|det W|", "[flows][glow]") {
  Rng rng(10);
  const std::size_t C = 5;
  InvConv1x1LU<double> conv(C, rng);
  // At initialisation W is the rotation it was drawn as: W W^T = I, log|det W| = 0.
  {
    const Tensor64 W = conv.weight().value();
    const Tensor64 WWt = small_matmul(W, W, false, true);
    for (std::size_t i = 0; i < C; ++i)
      for (std::size_t j = 0; j < C; ++j) CHECK(std::abs(WWt[i * C + j] - (i == j ? 1.0 : 0.0)) < 1e-12);
    CHECK(std::abs(conv.log_abs_det().value().item()) < 1e-12);
  }
  perturb(conv, rng, 0.3);
  // Hand-built W = P (tril(L, -1) + I) (triu(U, 1) + diag(sign_s exp(log_s))).
  const Tensor64& P = conv.buffer("P");
  const Tensor64& sign_s = conv.buffer("sign_s");
  const Tensor64& Lp = conv.parameter("L").value();
  const Tensor64& Up = conv.parameter("U").value();
  const Tensor64& log_s = conv.parameter("log_s").value();
  Tensor64 L({C, C}), U({C, C});
  for (std::size_t i = 0; i < C; ++i)
    for (std::size_t j = 0; j < C; ++j) {
      L[i * C + j] = j < i ? Lp[i * C + j] : (i == j ? 1.0 : 0.0);
      U[i * C + j] = j > i ? Up[i * C + j] : (i == j ? sign_s[i] * std::exp(log_s[i]) : 0.0);
    }
  const Tensor64 W = small_matmul(P, small_matmul(L, U));
  CHECK(max_abs_diff(conv.weight().value(), W) < 1e-13);

  const Tensor64 x = rng.normal<double>({2, C, 3, 4});
  Transformed<double> out = conv.forward(Var64(x));
  CHECK(max_abs_diff(out.value.value(), apply_matrix(W, x)) < 1e-12);
  const double expected = 12.0 * slogdet(W).logabsdet;
  CHECK(std::abs(expected) > 0.1);  // the perturbation moved it away from 0
  CHECK(std::abs(out.logdet.value()[0] - expected) < 1e-10);
  CHECK(std::abs(out.logdet.value()[1] - expected) < 1e-10);
  // The inverse applies W^-1.
  CHECK(max_abs_diff(conv.inverse(out.value).value.value(), x) < 1e-12);
}

TEST_CASE("glow: plain 1x1 conv applies W and its log-det is H W log|det W|", "[flows][glow]") {
  Rng rng(11);
  InvConv1x1<double> conv(4, rng);
  perturb(conv, rng, 0.3);
  const Tensor64 W = conv.weight().value();
  const Tensor64 x = rng.normal<double>({3, 4, 2, 3});
  Transformed<double> out = conv.forward(Var64(x));
  CHECK(max_abs_diff(out.value.value(), apply_matrix(W, x)) < 1e-12);
  CHECK(std::abs(out.logdet.value()[2] - 6.0 * slogdet(W).logabsdet) < 1e-10);
  Transformed<double> back = conv.inverse(out.value);
  CHECK(max_abs_diff(back.value.value(), x) < 1e-12);
  CHECK(std::abs(back.logdet.value()[0] + out.logdet.value()[0]) < 1e-12);
}

TEST_CASE("glow: a fresh coupling scales x_b by sigmoid(2) and keeps x_a", "[flows][glow]") {
  Rng rng(12);
  const Tensor64 x = rng.normal<double>({2, 6, 3, 3});
  const double s2 = 1.0 / (1.0 + std::exp(-2.0));
  for (bool training : {true, false}) {
    auto affine_ptr = make_glow_coupling<double>(6, 16, rng, true);
    Coupling<double>& affine = *affine_ptr;
    affine.train(training);
    Transformed<double> out = affine.forward(Var64(x));
    const Tensor64& y = out.value.value();
    const std::size_t half = 3 * 9;  // elements of x_a per sample
    for (std::size_t b = 0; b < 2; ++b)
      for (std::size_t i = 0; i < 2 * half; ++i) {
        const std::size_t k = b * 2 * half + i;
        if (i < half)
          CHECK(y[k] == x[k]);
        else
          CHECK(std::abs(y[k] - x[k] * s2) <= 1e-15 * std::abs(x[k]));
      }
    const double expected_logdet = double(half) * std::log(s2);
    CHECK(std::abs(out.logdet.value()[0] - expected_logdet) < 1e-12);
    CHECK(std::abs(out.logdet.value()[1] - expected_logdet) < 1e-12);

    auto additive_ptr = make_glow_coupling<double>(6, 16, rng, false);
    Coupling<double>& additive = *additive_ptr;
    additive.train(training);
    Transformed<double> a = additive.forward(Var64(x));
    CHECK(max_abs_diff(a.value.value(), x) == 0.0);
    CHECK(a.logdet.value()[0] == 0.0);
  }
}

TEST_CASE("glow: channel_affine gradients", "[flows][glow]") {
  Rng rng(13);
  for (const Shape& shape : {Shape{2, 3, 2, 3}, Shape{4, 3}}) {
    auto f = [](const std::vector<Var64>& in) { return channel_affine(in[0], in[1], in[2]); };
    GradcheckResult r = gradcheck(f, {rng.normal<double>(shape), rng.normal<double>({3}),
                                      rng.normal<double>({3})});
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("glow: channel_affine_relu equals relu(channel_affine) and passes gradcheck",
          "[flows][glow]") {
  Rng rng(15);
  for (const Shape& shape : {Shape{2, 3, 2, 3}, Shape{4, 3}, Shape{3, 2, 21}}) {
    INFO(shape_str(shape));
    auto f = [](const std::vector<Var64>& in) { return channel_affine_relu(in[0], in[1], in[2]); };
    const std::vector<Tensor64> inputs = {rng.normal<double>(shape), rng.normal<double>({shape[1]}),
                                          rng.normal<double>({shape[1]})};
    GradcheckResult r = gradcheck(f, inputs);
    INFO(r.message);
    CHECK(r.ok);
    const Var64 x(inputs[0]), s(inputs[1]), t(inputs[2]);
    const Tensor64 fused = channel_affine_relu(x, s, t).value();
    const Tensor64 plain = relu(channel_affine(x, s, t)).value();
    REQUIRE(max_abs_diff(fused, plain) == 0.0);
    std::size_t zeros = 0;  // the mask is exercised: some outputs are clipped, some are not
    for (std::size_t i = 0; i < fused.numel(); ++i) zeros += fused[i] == 0.0;
    CHECK(zeros > 0);
    CHECK(zeros < fused.numel());
  }
}

TEST_CASE("glow: one glow-fmnist step has the hand-counted parameters", "[flows][glow]") {
  Rng rng(14);
  const std::size_t c = 4, h = 128;
  auto step = glow_step<float>(c, h, rng, true, true);
  REQUIRE(step->size() == 3);
  const std::size_t actnorm = 2 * c;                   // bias, logs
  const std::size_t conv_lu = c * c + c * c + c;       // L, U (full matrices, masked), log_s
  const std::size_t net = (c / 2) * h * 9              // conv3x3 c/2 -> h, no bias
                          + 2 * h                      // ActNorm
                          + h * h                      // conv1x1 h -> h, no bias
                          + 2 * h                      // ActNorm
                          + h * c * 9 + c + c;         // zero conv3x3 h -> c, bias, logscale
  CHECK(step->num_parameters() == actnorm + conv_lu + net);
  CHECK(step->num_parameters() == 23860);
  CHECK(step->named_parameters().front().first == "0.bias");
  // The plain-conv, additive variant: C^2 conv weights and a net with c/2 outputs.
  auto plain = glow_step<float>(c, h, rng, false, false);
  CHECK(plain->num_parameters() == actnorm + c * c + (net - (h * c * 9 + 2 * c)) + h * (c / 2) * 9 + c);
}

TEST_CASE("glow: a float32 step round-trips after initialisation", "[flows][glow]") {
  Rng rng(15);
  auto step = glow_step<float>(8, 32, rng, true, true);
  const Tensor32 x = rng.normal<float>({4, 8, 7, 7});
  step->train();
  Transformed<float> first = step->forward(Var32(x));
  // The data-dependent initialisation makes the ActNorm output standardised; the coupling's
  // zero conv keeps it near the identity, so log-det is finite and the round trip is exact.
  step->eval();
  NoGradGuard no_grad;
  Transformed<float> out = step->forward(Var32(x));
  CHECK(max_abs_diff(out.value.value().cast<double>(), first.value.value().cast<double>()) == 0.0);
  Transformed<float> back = step->inverse(out.value);
  CHECK(max_abs_diff(back.value.value().cast<double>(), x.cast<double>()) < 1e-4);
  for (std::size_t b = 0; b < 4; ++b)
    CHECK(std::abs(back.logdet.value()[b] + out.logdet.value()[b]) < 1e-3);
}
