// tests/flows/test_nice_realnvp.cpp — focused tests of the NICE / RealNVP layers beyond the
// generic conformance checks: masks, identities at initialisation, batch-norm modes, the
// benchmark-size parameter counts, permutation state, and the fused tanh coupling (one
// gather + one transform op) against the unfused ops.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/grad_mode.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"
#include "flows/bijectors/coupling_factories.hpp"
#include "flows/transformers/affine.hpp"
#include "flows/bijectors/batch_norm.hpp"
#include "flows/bijectors/diagonal_scaling.hpp"
#include "flows/bijectors/permutation.hpp"
#include "flows/bijectors/squeeze.hpp"
#include "flows/conditioners/mlp.hpp"
#include "flows/conditioners/resnet.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/reference_mode.hpp"

using namespace fz;

namespace {

void perturb(Module<double>& m, Rng& rng, double sd) {
  for (Var64 p : m.parameters()) add_inplace(p.mutable_value(), rng.normal<double>(p.shape(), 0.0, sd));
}

double max_abs_diff(const Tensor64& a, const Tensor64& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST_CASE("nice/realnvp: partition splits and masks", "[flows][nice_realnvp]") {
  Tensor64 x({2, 6});
  for (std::size_t i = 0; i < x.numel(); ++i) x[i] = double(i);
  Partition eo{PartitionKind::EvenOdd, false};
  auto [a, b] = eo.split(Var64(x));
  CHECK(a.value()[0] == 0.0);
  CHECK(a.value()[1] == 2.0);
  CHECK(b.value()[0] == 1.0);
  CHECK(b.value()[5] == 11.0);
  CHECK(max_abs_diff(eo.merge(a, b).value(), x) == 0.0);
  Partition eo1{PartitionKind::EvenOdd, true};
  auto [a1, b1] = eo1.split(Var64(x));
  CHECK(a1.value()[0] == 1.0);  // parity 1: odd features condition
  CHECK(max_abs_diff(eo1.merge(a1, b1).value(), x) == 0.0);

  Partition cb{PartitionKind::Checkerboard, false}, cb1{PartitionKind::Checkerboard, true};
  Tensor64 m = cb.mask<double>(3, 4), m1 = cb1.mask<double>(3, 4);
  CHECK(m.shape() == Shape{1, 1, 3, 4});
  CHECK(m[0] == 1.0);             // (0, 0) conditions at parity 0
  CHECK(m[1] == 0.0);
  CHECK(m[4] == 0.0);             // (1, 0)
  CHECK(m[5] == 1.0);             // (1, 1)
  for (std::size_t i = 0; i < m.numel(); ++i) CHECK(m[i] + m1[i] == 1.0);
  CHECK(cb.conditioner_in_channels(3) == 4);
  CHECK(cb.transformed_channels(3) == 3);
  CHECK(eo.conditioner_in_channels(784) == 392);
  CHECK_THROWS_AS(eo.check_shape({2, 5}, "test"), std::invalid_argument);
  CHECK_THROWS_AS(cb.check_shape({2, 6}, "test"), std::invalid_argument);
}

TEST_CASE("nice/realnvp: checkerboard couplings leave the conditioning pixels exactly unchanged",
          "[flows][nice_realnvp]") {
  Rng rng(7);
  for (bool parity : {false, true}) {
    Partition p{PartitionKind::Checkerboard, parity};
    auto affine = make_resnet_affine_coupling<double>(2, p, 8, 2, rng);
    auto additive = make_resnet_additive_coupling<double>(2, p, 8, 1, rng);
    perturb(*affine, rng, 0.3);
    perturb(*additive, rng, 0.3);
    const Tensor64 x = rng.normal<double>({3, 2, 4, 6});
    const Tensor64 m = p.mask<double>(4, 6);
    for (Bijector<double>* b : {static_cast<Bijector<double>*>(affine.get()),
                                static_cast<Bijector<double>*>(additive.get())}) {
      const Tensor64 y = b->forward(Var64(x)).value.value();
      std::size_t changed = 0;
      for (std::size_t i = 0; i < x.numel(); ++i) {
        if (m[i % 24] == 1.0)
          CHECK(y[i] == x[i]);  // bit-for-bit
        else
          changed += y[i] != x[i];
      }
      CHECK(changed == x.numel() / 2);  // every transformed pixel moved
    }
  }
}

TEST_CASE("nice/realnvp: channel and even/odd couplings keep the conditioning part",
          "[flows][nice_realnvp]") {
  Rng rng(8);
  auto c = make_resnet_affine_coupling<double>(4, {PartitionKind::ChannelHalves, true}, 4, 1, rng);
  perturb(*c, rng, 0.3);
  const Tensor64 x = rng.normal<double>({2, 4, 2, 2});
  const Tensor64 y = c->forward(Var64(x)).value.value();
  // parity 1: the last two channels condition, the first two are transformed
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t i = 0; i < 8; ++i) {
      CHECK(y[b * 16 + 8 + i] == x[b * 16 + 8 + i]);
      CHECK(y[b * 16 + i] != x[b * 16 + i]);
    }
  auto v = make_mlp_additive_coupling<double>(6, false, 8, 2, rng);
  const Tensor64 xv = rng.normal<double>({2, 6});
  const Tensor64 yv = v->forward(Var64(xv)).value.value();
  for (std::size_t i = 0; i < 12; i += 2) CHECK(yv[i] == xv[i]);
}

TEST_CASE("nice/realnvp: zero-initialised RealNVP couplings are the identity", "[flows][nice_realnvp]") {
  Rng rng(9);
  const Tensor64 x = rng.normal<double>({2, 2, 4, 4});
  for (Partition p : {Partition{PartitionKind::Checkerboard, false},
                      Partition{PartitionKind::Checkerboard, true},
                      Partition{PartitionKind::ChannelHalves, false}}) {
    for (bool wn : {false, true}) {
      auto c = make_resnet_affine_coupling<double>(2, p, 8, 2, rng, wn);
      Transformed<double> t = c->forward(Var64(x));
      CHECK(max_abs_diff(t.value.value(), x) == 0.0);
      CHECK(t.logdet.value()[0] == 0.0);
      CHECK(t.logdet.value()[1] == 0.0);
    }
  }
  // ... and a single parameter step moves them (the gradient reaches the zero last layer).
  auto c = make_resnet_affine_coupling<double>(2, {PartitionKind::Checkerboard, false}, 8, 2, rng, true);
  Var64 xin(x);
  Transformed<double> t = c->forward(xin);
  sum(t.logdet + sum_per_sample(t.value * t.value)).backward();
  double gnorm = 0;
  for (auto& [name, p] : c->named_parameters())
    if (name.rfind("net.conv_out.", 0) == 0 && p.grad().defined())
      for (double g : p.grad()) gnorm += g * g;
  CHECK(gnorm > 0.0);
}

TEST_CASE("nice/realnvp: affine coupling log-det and learned scale", "[flows][nice_realnvp]") {
  Rng rng(10);
  auto c = make_mlp_affine_coupling<double>(2, false, 16, 2, rng);
  CHECK(!c->has_parameter("scale"));  // the toy's plain tanh
  perturb(*c, rng, 0.5);
  const Tensor64 x = rng.normal<double>({4, 2});
  Transformed<double> t = c->forward(Var64(x));
  // with one transformed coordinate the log-det is log(dy1/dx1) = (y1 - t) / x1 ... check
  // numerically via the derivative along x1 alone
  const double eps = 1e-6;
  for (std::size_t b = 0; b < 4; ++b) {
    Tensor64 xp = x.clone(), xm = x.clone();
    xp[b * 2 + 1] += eps;
    xm[b * 2 + 1] -= eps;
    const double d = (c->forward(Var64(xp)).value.value()[b * 2 + 1] -
                      c->forward(Var64(xm)).value.value()[b * 2 + 1]) / (2 * eps);
    CHECK(std::abs(std::log(d) - t.logdet.value()[b]) < 1e-6);
    CHECK(std::abs(t.logdet.value()[b]) < 1.0);  // |tanh| < 1
  }
  auto cs = make_mlp_affine_coupling<double>(6, false, 8, 1, rng, true);
  REQUIRE(cs->has_parameter("scale"));
  CHECK(cs->parameter("scale").shape() == Shape{3});
  CHECK(cs->parameter("scale").value()[0] == 1.0);
}

TEST_CASE("nice/realnvp: diagonal scaling", "[flows][nice_realnvp]") {
  DiagonalScaling<double> d(Shape{3});
  Var64 s = d.parameter("log_scale");
  s.mutable_value()[0] = 0.5;
  s.mutable_value()[2] = -1.0;
  Tensor64 x({2, 3}, 2.0);
  Transformed<double> t = d.forward(Var64(x));
  CHECK(t.value.value()[0] == Approx(2.0 * std::exp(0.5)));
  CHECK(t.value.value()[1] == 2.0);
  CHECK(t.value.value()[5] == Approx(2.0 * std::exp(-1.0)));
  CHECK(t.logdet.value()[0] == Approx(-0.5));
  CHECK(t.logdet.value()[1] == Approx(-0.5));
  CHECK_THROWS_AS(d.forward(Var64(Tensor64({2, 4}))), std::invalid_argument);
}

TEST_CASE("nice/realnvp: batch norm uses batch statistics in training and running ones in eval",
          "[flows][nice_realnvp]") {
  BatchNormBijector<double> bn(2, 0.25, 1e-5);
  Rng rng(11);
  Tensor64 x = rng.normal<double>({4, 2, 3, 3}, 0.0, 1.0);
  // channel 1 gets mean 3, larger spread
  for (std::size_t b = 0; b < 4; ++b)
    for (std::size_t i = 0; i < 9; ++i) x[b * 18 + 9 + i] = 3.0 + 2.0 * x[b * 18 + 9 + i];
  double mean[2] = {0, 0}, var[2] = {0, 0};
  for (std::size_t c = 0; c < 2; ++c) {
    for (std::size_t b = 0; b < 4; ++b)
      for (std::size_t i = 0; i < 9; ++i) mean[c] += x[b * 18 + c * 9 + i] / 36;
    for (std::size_t b = 0; b < 4; ++b)
      for (std::size_t i = 0; i < 9; ++i) var[c] += std::pow(x[b * 18 + c * 9 + i] - mean[c], 2) / 36;
  }
  bn.train();
  Transformed<double> t = bn.forward(Var64(x));
  // normalised output: per channel mean 0, variance var / (var + eps) ~ 1
  for (std::size_t c = 0; c < 2; ++c) {
    double m = 0, v = 0;
    for (std::size_t b = 0; b < 4; ++b)
      for (std::size_t i = 0; i < 9; ++i) m += t.value.value()[b * 18 + c * 9 + i] / 36;
    for (std::size_t b = 0; b < 4; ++b)
      for (std::size_t i = 0; i < 9; ++i) v += std::pow(t.value.value()[b * 18 + c * 9 + i] - m, 2) / 36;
    CHECK(std::abs(m) < 1e-12);
    CHECK(v == Approx(var[c] / (var[c] + 1e-5)).epsilon(1e-9));
  }
  const double ld = -4.5 * (std::log(var[0] + 1e-5) + std::log(var[1] + 1e-5));
  CHECK(t.logdet.value()[0] == Approx(ld).epsilon(1e-12));
  CHECK(t.logdet.value()[3] == Approx(ld).epsilon(1e-12));
  // running statistics: (1 - 0.25) * init + 0.25 * batch (unbiased variance)
  CHECK(bn.running_mean()[0] == Approx(0.25 * mean[0]).epsilon(1e-12));
  CHECK(bn.running_mean()[1] == Approx(0.25 * mean[1]).epsilon(1e-12));
  CHECK(bn.running_var()[1] == Approx(0.75 + 0.25 * var[1] * 36 / 35).epsilon(1e-12));
  CHECK(bn.buffer("running_mean")[1] == bn.running_mean()[1]);  // the registered buffer itself

  // eval: running statistics, nothing updated, each sample independent of the batch
  bn.eval();
  const Tensor64 rm = bn.running_mean().clone(), rv = bn.running_var().clone();
  Transformed<double> e = bn.forward(Var64(x));
  CHECK(max_abs_diff(bn.running_mean(), rm) == 0.0);
  CHECK(max_abs_diff(bn.running_var(), rv) == 0.0);
  CHECK(e.value.value()[9] == Approx((x[9] - rm[1]) / std::sqrt(rv[1] + 1e-5)).epsilon(1e-12));
  CHECK(e.logdet.value()[0] ==
        Approx(-4.5 * (std::log(rv[0] + 1e-5) + std::log(rv[1] + 1e-5))).epsilon(1e-12));
  Tensor64 x0({1, 2, 3, 3});
  std::copy(x.begin(), x.begin() + 18, x0.begin());
  CHECK(max_abs_diff(bn.forward(Var64(x0)).value.value(),
                     Tensor64(x0.shape(), 0.0)) > 0.0);
  Tensor64 e0 = bn.forward(Var64(x0)).value.value();
  for (std::size_t i = 0; i < 18; ++i) CHECK(e0[i] == e.value.value()[i]);
  // inverse round trip in eval mode
  CHECK(max_abs_diff(bn.inverse(e.value).value.value(), x) < 1e-12);

  // repeated training batches converge the running mean towards the data mean
  bn.train();
  {
    NoGradGuard ng;
    for (int k = 0; k < 60; ++k) bn.forward(Var64(x));
  }
  CHECK(bn.running_mean()[1] == Approx(mean[1]).epsilon(1e-6));
  CHECK(bn.running_var()[1] == Approx(var[1] * 36 / 35).epsilon(1e-6));
}

TEST_CASE("nice/realnvp: benchmark-size conditioners have the hand-counted parameters",
          "[flows][nice_realnvp]") {
  Rng rng(12);
  // nice-fmnist: 392 -> 1000 (x5 hidden) -> 392
  MLP<float> nice(392, 1000, 5, 392, rng);
  CHECK(nice.num_parameters() == (392 * 1000 + 1000) + 4 * (1000 * 1000 + 1000) + (1000 * 392 + 392));
  CHECK(nice.named_parameters().size() == 12);
  // toy-realnvp: 1 -> 64 -> 64 -> 2
  MLP<double> toy(1, 64, 2, 2, rng);
  CHECK(toy.num_parameters() == (64 + 64) + (64 * 64 + 64) + (64 * 2 + 2));
  // realnvp-fmnist, first scale checkerboard (C = 1): 2 -> 32, 2 blocks, 32 -> 2
  ResNetConditioner<float> cb(2, 32, 2, 2, rng);
  const std::size_t conv32 = 9 * 32 * 32 + 32;
  CHECK(cb.num_parameters() == (9 * 2 * 32 + 32) + 4 * conv32 + (9 * 32 * 2 + 2));
  CHECK(cb.num_parameters() == 38178);
  // after the squeeze: channel-wise on C = 4: 2 -> 32 ... -> 4
  auto cw = make_resnet_affine_coupling<float>(4, {PartitionKind::ChannelHalves, false}, 32, 2, rng);
  CHECK(cw->num_parameters() == (9 * 2 * 32 + 32) + 4 * conv32 + (9 * 32 * 4 + 4) + 2);
  // second scale checkerboard on C = 2: 3 -> 32 ... -> 4, plus the per-channel scale (2)
  auto cb2 = make_resnet_affine_coupling<float>(2, {PartitionKind::Checkerboard, true}, 32, 2, rng);
  CHECK(cb2->num_parameters() == (9 * 3 * 32 + 32) + 4 * conv32 + (9 * 32 * 4 + 4) + 2);
  // weight norm adds one g per output channel
  ResNetConditioner<float> wn(2, 32, 2, 2, rng, true);
  CHECK(wn.num_parameters() == cb.num_parameters() + 32 + 4 * 32 + 2);
  // the zero-initialised last conv
  for (auto& [name, p] : cb.named_parameters())
    if (name.rfind("conv_out.", 0) == 0)
      for (float v : p.value()) CHECK(v == 0.0f);
}

TEST_CASE("nice/realnvp: weight norm starts at the plain weight", "[flows][nice_realnvp]") {
  Rng rng(13);
  const auto conv = resnet_conv<double>(3, 5, rng, /*weight_norm=*/true);
  Conv2d<double>& c = *conv;
  const Tensor64 w = c.weight().value();
  CHECK(max_abs_diff(w, c.parameter("v").value()) < 1e-14);
  // scaling v leaves the weight unchanged; scaling g scales it
  Var64 v = c.parameter("v"), g = c.parameter("g");
  scale_inplace(v.mutable_value(), 3.0);
  CHECK(max_abs_diff(c.weight().value(), w) < 1e-14);
  scale_inplace(g.mutable_value(), 2.0);
  CHECK(max_abs_diff(c.weight().value(), mul_scalar(w, 2.0)) < 1e-14);
}

TEST_CASE("nice/realnvp: permutation is stored and restored", "[flows][nice_realnvp]") {
  Rng rng(14);
  Permutation<double> p(10, rng);
  const auto order = p.indices();
  Tensor64 x({1, 10});
  for (std::size_t i = 0; i < 10; ++i) x[i] = double(i);
  const Tensor64 y = p.forward(Var64(x)).value.value();
  for (std::size_t j = 0; j < 10; ++j) CHECK(y[j] == double(order[j]));
  bool identity = true;
  for (std::size_t j = 0; j < 10; ++j) identity = identity && order[j] == j;
  CHECK_FALSE(identity);
  // a differently seeded one differs, and loading the state dict restores the original order
  Rng other(15);
  Permutation<double> q(10, other);
  CHECK(q.indices() != order);
  q.load_state_dict(p.state_dict());
  CHECK(q.indices() == order);
  CHECK(max_abs_diff(q.forward(Var64(x)).value.value(), y) == 0.0);
  CHECK_THROWS_AS(Permutation<double>(std::vector<std::size_t>{0, 0, 1}), std::invalid_argument);

  Reverse<double> r;
  const Tensor64 yr = r.forward(Var64(x)).value.value();
  CHECK(yr[0] == 9.0);
  CHECK(yr[9] == 0.0);
}

TEST_CASE("nice/realnvp: squeeze shapes", "[flows][nice_realnvp]") {
  Squeeze<float> s;
  CHECK(s.forward_shape({64, 1, 28, 28}) == Shape{64, 4, 14, 14});
  CHECK(s.inverse_shape({64, 4, 14, 14}) == Shape{64, 1, 28, 28});
  CHECK_THROWS_AS(s.forward_shape({2, 1, 3, 4}), std::invalid_argument);
  Tensor32 x = Rng(1).normal<float>({2, 1, 4, 4});
  Transformed<float> t = s.forward(Var32(x));
  CHECK(t.value.shape() == Shape{2, 4, 2, 2});
  CHECK(t.logdet.value()[0] == 0.0f);
  Tensor32 back = s.inverse(t.value).value.value();
  for (std::size_t i = 0; i < x.numel(); ++i) CHECK(back[i] == x[i]);
}

TEST_CASE("nice/realnvp: conditioning_part is split().first as one op, with its gradient",
          "[flows][nice_realnvp]") {
  Rng rng(21);
  const Tensor64 vec = rng.normal<double>({3, 6});
  const Tensor64 img = rng.normal<double>({2, 4, 2, 3});
  for (Partition p : {Partition{PartitionKind::EvenOdd, false}, Partition{PartitionKind::EvenOdd, true},
                      Partition{PartitionKind::ChannelHalves, false},
                      Partition{PartitionKind::ChannelHalves, true}}) {
    for (const Tensor64* x : {&vec, &img}) {
      if (p.kind == PartitionKind::EvenOdd && x->dim() != 2) continue;
      INFO(p.name() << " input " << shape_str(x->shape()));
      const Tensor64 a = p.conditioning_part(Var64(*x)).value();
      CHECK(max_abs_diff(a, p.split(Var64(*x)).first.value()) == 0.0);
      const GradcheckResult r = gradcheck(
          [p](const std::vector<Var64>& v) { return p.conditioning_part(v[0]); }, {*x});
      INFO(r.message);
      CHECK(r.ok);
    }
  }
  CHECK_THROWS_AS(Partition({PartitionKind::Checkerboard, false}).conditioning_part(Var64(img)),
                  std::logic_error);
}

namespace {

// The unfused forward of a tanh affine coupling given the net output h: what the fused op
// replaces (split, slices of h, tanh, exp, mul, add, merge, sum_per_sample).
Transformed<double> unfused_coupling(const Var64& x, const Var64& h, const Partition& p) {
  auto [a, b] = p.split(x);
  const long k = static_cast<long>(h.shape()[1] / 2);
  Var64 log_s = tanh(slice(h, 1, 0, k));
  Var64 t = slice(h, 1, k, 2 * k);
  return {p.merge(a, b * exp(log_s) + t), sum_per_sample(log_s)};
}

}  // namespace

TEST_CASE("nice/realnvp: the fused tanh affine coupling equals the unfused ops, with gradients",
          "[flows][nice_realnvp]") {
  Rng rng(22);
  struct Case { Partition p; Shape x; };
  const Case cases[] = {{{PartitionKind::EvenOdd, false}, {5, 2}},
                        {{PartitionKind::EvenOdd, true}, {5, 2}},
                        {{PartitionKind::EvenOdd, true}, {3, 6}},
                        {{PartitionKind::ChannelHalves, false}, {2, 4, 2, 3}},
                        {{PartitionKind::ChannelHalves, true}, {2, 2, 3}}};
  for (const Case& c : cases) {
    INFO(c.p.name() << " input " << shape_str(c.x));
    Shape hs = c.x;  // the net outputs 2k = C channels
    const Tensor64 x = rng.normal<double>(c.x);
    const Tensor64 h = rng.normal<double>(hs);
    const Tensor64 gy = rng.normal<double>(c.x);
    const Tensor64 gl = rng.normal<double>({c.x[0]});
    Var64 x1(x.clone(), true), h1(h.clone(), true), x2(x.clone(), true), h2(h.clone(), true);
    // One backward per graph (a backward consumes the tape), through both outputs:
    // sum(value * gy) + sum(logdet * gl).
    Transformed<double> fused = affine_coupling_tanh(x1, h1, c.p);
    const Tensor64 fused_value = fused.value.value(), fused_logdet = fused.logdet.value();
    sum(sum_per_sample(fused.value * Var64(gy)) + fused.logdet * Var64(gl)).backward();
    Transformed<double> plain = unfused_coupling(x2, h2, c.p);
    CHECK(max_abs_diff(fused_value, plain.value.value()) < 1e-14);
    CHECK(max_abs_diff(fused_logdet, plain.logdet.value()) < 1e-14);
    sum(sum_per_sample(plain.value * Var64(gy)) + plain.logdet * Var64(gl)).backward();
    CHECK(max_abs_diff(x1.grad(), x2.grad()) < 1e-14);
    CHECK(max_abs_diff(h1.grad(), h2.grad()) < 1e-14);
    for (bool want_logdet : {false, true}) {
      const GradcheckResult r = gradcheck(
          [&c, want_logdet](const std::vector<Var64>& v) {
            Transformed<double> t = affine_coupling_tanh(v[0], v[1], c.p);
            return want_logdet ? t.logdet : t.value;
          },
          {x, h});
      INFO((want_logdet ? "logdet: " : "value: ") << r.message);
      CHECK(r.ok);
    }
  }
  Var64 x(rng.normal<double>({4, 2}));
  CHECK_THROWS_AS(affine_coupling_tanh(x, Var64(rng.normal<double>({4, 4})),
                                       Partition{PartitionKind::EvenOdd, false}),
                  std::invalid_argument);
  CHECK_THROWS_AS(affine_coupling_tanh(x, Var64(rng.normal<double>({4, 2})),
                                       Partition{PartitionKind::Checkerboard, false}),
                  std::invalid_argument);
}

TEST_CASE("nice/realnvp: tanh MLP couplings use the fused path and still invert",
          "[flows][nice_realnvp]") {
  const ReferenceOpsScope fused(false);  // checks the fused path itself, whatever FZ_REFERENCE_OPS says
  Rng rng(23);
  for (bool parity : {false, true}) {
    auto c = make_mlp_affine_coupling<double>(6, parity, 8, 2, rng);
    perturb(*c, rng, 0.3);
    const Tensor64 x = rng.normal<double>({5, 6});
    Transformed<double> t = c->forward(Var64(x));
    // The forward records: gather, 2 fused linear+ReLU, linear, coupling, logdet.
    Tape<double>& tape = Tape<double>::current();
    tape.clear();
    Var64 xr(x.clone(), true);
    Transformed<double> tr = c->forward(xr);
    CHECK(tape.size() == 6);
    tape.clear();
    Transformed<double> back = c->inverse(t.value.detach());
    CHECK(max_abs_diff(back.value.value(), x) < 1e-12);
    for (std::size_t b = 0; b < 5; ++b)
      CHECK(std::abs(back.logdet.value()[b] + t.logdet.value()[b]) < 1e-12);
    // The fused forward equals the unfused formula on the same net.
    Partition p{PartitionKind::EvenOdd, parity};
    Var64 h = c->net()->forward(p.conditioning_part(Var64(x)));
    Transformed<double> plain = unfused_coupling(Var64(x), h, p);
    CHECK(max_abs_diff(t.value.value(), plain.value.value()) < 1e-14);
    CHECK(max_abs_diff(t.logdet.value(), plain.logdet.value()) < 1e-14);
  }
}
