// tests/autograd/test_reference_ops.cpp — every fused op against its plain form from primitive
// ops (the `_reference` function next to it): equal values and equal gradients of every input,
// in float32 and float64; that under reference_ops() (tensor/reference_mode.hpp) the fused op
// records its plain form's primitive ops and none of its own; and the float64 gradcheck of the
// ops that moved into autograd/ from flows/ (channel_affine(_relu), affine_coupling_tanh,
// select_channels, keep_masked).
//
// Tolerances, relative to max(1, the largest magnitude compared): float64 1e-12, float32 2e-5.
// Both forms do the same arithmetic in a different order (an fma against a multiply and an add,
// a bias inside or after a product, sums grouped differently): sums of up to ~100 products, so
// ~100 * 2^-24 = 6e-6 relative at worst in float32. Measured when written: 5.4e-7 in float32,
// below 1e-10 in float64; a wrong plain form (a missing term, sign or broadcast) is off by O(1).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_affine_coupling.hpp"
#include "autograd/ops_channel_affine.hpp"
#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_keep_masked.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_linalg.hpp"
#include "autograd/ops_matmul.hpp"
#include "autograd/ops_rational_quadratic_spline.hpp"
#include "autograd/ops_reduce.hpp"
#include "autograd/ops_select_channels.hpp"
#include "autograd/tape.hpp"
#include "tensor/random.hpp"
#include "tensor/reference_mode.hpp"
#include "tests/tensor_compare.hpp"

using namespace fz;
using fz::test::max_abs;
using fz::test::max_diff;

namespace {

template <typename T>
using OpFn = std::function<Var<T>(const std::vector<Var<T>>&)>;

// One fused op and its plain form over the same inputs (the shapes of `inputs`).
template <typename T>
struct Pair {
  std::string name;
  std::vector<Shape> inputs;
  OpFn<T> fused, reference;
  std::string fused_node;  // the tape node the fused op records
};

template <typename T>
std::vector<Pair<T>> fused_pairs() {
  using V = std::vector<Var<T>>;
  std::vector<Pair<T>> out;
  const Shape img{2, 3, 4, 5};
  out.push_back({"channel_affine (B, C, H, W)", {img, {3}, {3}},
                 [](const V& v) { return channel_affine(v[0], v[1], v[2]); },
                 [](const V& v) { return channel_affine_reference(v[0], v[1], v[2]); },
                 "channel_affine"});
  out.push_back({"channel_affine (B, C)", {{6, 3}, {3}, {3}},
                 [](const V& v) { return channel_affine(v[0], v[1], v[2]); },
                 [](const V& v) { return channel_affine_reference(v[0], v[1], v[2]); },
                 "channel_affine"});
  out.push_back({"channel_affine_relu (B, C, H, W)", {img, {3}, {3}},
                 [](const V& v) { return channel_affine_relu(v[0], v[1], v[2]); },
                 [](const V& v) { return channel_affine_relu_reference(v[0], v[1], v[2]); },
                 "channel_affine_relu"});
  // conv2d_affine: the fused same-convolution path (3x3 pad 1) in all four activation modes,
  // the 1x1 path, and the composed geometry (stride 2).
  const char* names[] = {"conv2d_affine", "conv2d_affine_relu", "relu_conv2d_affine",
                         "relu_conv2d_affine_relu"};
  for (int mode = 0; mode < 4; ++mode) {
    const bool relu = mode & 1, relu_in = mode & 2;
    out.push_back({std::string(names[mode]) + " 3x3", {{2, 3, 5, 6}, {4, 3, 3, 3}, {4}, {4}},
                   [=](const V& v) { return conv2d_affine(v[0], v[1], v[2], v[3], relu, 1, 1, relu_in); },
                   [=](const V& v) {
                     return conv2d_affine_reference(v[0], v[1], v[2], v[3], relu, 1, 1, relu_in);
                   },
                   names[mode]});
  }
  out.push_back({"conv2d_affine_relu 1x1", {{2, 5, 3, 4}, {6, 5, 1, 1}, {6}, {6}},
                 [](const V& v) { return conv2d_affine(v[0], v[1], v[2], v[3], true, 1, 0); },
                 [](const V& v) { return conv2d_affine_reference(v[0], v[1], v[2], v[3], true, 1, 0); },
                 "conv2d_affine_relu"});
  out.push_back({"conv2d_affine_relu stride 2", {{2, 3, 7, 7}, {2, 3, 3, 3}, {2}, {2}},
                 [](const V& v) { return conv2d_affine(v[0], v[1], v[2], v[3], true, 2, 1); },
                 [](const V& v) { return conv2d_affine_reference(v[0], v[1], v[2], v[3], true, 2, 1); },
                 "conv2d_affine_relu"});
  // Glow's coupling network (3x3 -> ReLU, 1x1 -> ReLU, 3x3 out) and RealNVP's residual branch
  // (relu -> 3x3 -> relu -> 3x3).
  auto glow_chain = [](const V& v) {
    return std::vector<ConvAffineVars<T>>{
        {v[1], v[2], v[3], true}, {v[4], v[5], v[6], true}, {v[7], v[8], v[9], false}};
  };
  out.push_back({"conv2d_affine_chain (Glow net)",
                 {{2, 2, 4, 5}, {6, 2, 3, 3}, {6}, {6}, {5, 6, 1, 1}, {5}, {5}, {4, 5, 3, 3}, {4}, {4}},
                 [=](const V& v) { return conv2d_affine_chain(v[0], false, glow_chain(v)); },
                 [=](const V& v) { return conv2d_affine_chain_reference(v[0], false, glow_chain(v)); },
                 "conv2d_affine_chain"});
  auto resnet_chain = [](const V& v) {
    return std::vector<ConvAffineVars<T>>{{v[1], v[2], v[3], true}, {v[4], v[5], v[6], false}};
  };
  out.push_back({"conv2d_affine_chain (RealNVP residual branch)",
                 {{2, 3, 4, 4}, {3, 3, 3, 3}, {3}, {3}, {3, 3, 3, 3}, {3}, {3}},
                 [=](const V& v) { return conv2d_affine_chain(v[0], true, resnet_chain(v)); },
                 [=](const V& v) { return conv2d_affine_chain_reference(v[0], true, resnet_chain(v)); },
                 "conv2d_affine_chain"});
  out.push_back({"linear (B, S, in)", {{2, 3, 5}, {4, 5}, {4}},
                 [](const V& v) { return linear(v[0], v[1], v[2]); },
                 [](const V& v) { return linear_reference(v[0], v[1], v[2]); }, "linear"});
  out.push_back({"linear_relu (B, in)", {{7, 5}, {9, 5}, {9}},
                 [](const V& v) { return linear_relu(v[0], v[1], v[2]); },
                 [](const V& v) { return linear_relu_reference(v[0], v[1], v[2]); }, "linear_relu"});
  out.push_back({"linear_relu, no bias", {{7, 5}, {9, 5}},
                 [](const V& v) { return linear_relu(v[0], v[1]); },
                 [](const V& v) { return linear_relu_reference(v[0], v[1]); }, "linear_relu"});
  // affine_coupling_tanh's two outputs as one tensor (B, C * inner + 1): the value's entries of
  // each sample, then its log-det (the same reshape and concat on both sides).
  auto both = [](const AffineCouplingOutput<T>& o) {
    const std::size_t b = o.value.shape()[0];
    return concat({reshape(o.value, Shape{b, o.value.numel() / b}), reshape(o.logdet, Shape{b, 1})}, 1);
  };
  const CouplingChannels halves{{0, 1}, {2, 3}}, even_odd{{1, 3}, {0, 2}}, toy{{1}, {0}};
  for (const auto& [label, ch, x_shape] :
       {std::tuple<const char*, CouplingChannels, Shape>{"affine_coupling_tanh (B, 4, 2, 3), halves", halves, {2, 4, 2, 3}},
        std::tuple<const char*, CouplingChannels, Shape>{"affine_coupling_tanh (B, 4), even/odd", even_odd, {5, 4}},
        std::tuple<const char*, CouplingChannels, Shape>{"affine_coupling_tanh (B, 2), the 2-D toy", toy, {7, 2}}}) {
    out.push_back({label, {x_shape, x_shape},
                   [=](const V& v) { return both(affine_coupling_tanh(v[0], v[1], ch)); },
                   [=](const V& v) { return both(affine_coupling_tanh_reference(v[0], v[1], ch)); },
                   "affine_coupling"});
  }
  out.push_back({"select_channels, a permutation", {{2, 4, 3}},
                 [](const V& v) { return select_channels(v[0], {2, 0, 3, 1}); },
                 [](const V& v) { return select_channels_reference(v[0], {2, 0, 3, 1}); }, "select_channels"});
  out.push_back({"select_channels, a half (B, C)", {{3, 6}},
                 [](const V& v) { return select_channels(v[0], {1, 3, 5}); },
                 [](const V& v) { return select_channels_reference(v[0], {1, 3, 5}); }, "select_channels"});
  // Glow's LU 1x1 weight: P a permutation, signs of both kinds.
  Tensor<T> perm({4, 4});
  for (std::size_t i = 0; i < 4; ++i) perm[i * 4 + (i + 1) % 4] = T(1);
  Tensor<T> signs({4});
  for (std::size_t i = 0; i < 4; ++i) signs[i] = i % 3 == 0 ? T(-1) : T(1);
  out.push_back({"lu_compose", {{4, 4}, {4, 4}, {4}},
                 [=](const V& v) { return lu_compose(perm, v[0], v[1], signs, v[2]); },
                 [=](const V& v) { return lu_compose_reference(perm, v[0], v[1], signs, v[2]); }, "lu_compose"});
  Tensor<T> mask({1, 1, 3, 4});
  for (std::size_t i = 0; i < 12; ++i) mask[i] = T((i / 4 + i % 4) % 2);
  out.push_back({"keep_masked", {{2, 3, 3, 4}, {2, 3, 3, 4}},
                 [=](const V& v) { return keep_masked(v[0], v[1], mask); },
                 [=](const V& v) { return keep_masked_reference(v[0], v[1], mask); }, "keep_masked"});
  return out;
}

template <typename T>
struct Run {
  Tensor<T> value;
  std::vector<Tensor<T>> grads;
  std::set<std::string> nodes;  // the op names the forward pass recorded
};

// Forward, then backward of sum(y * r) with r random but the same in every run (a fixed
// seed): every input's gradient, and the names of the nodes the forward pass recorded.
template <typename T>
Run<T> run(const OpFn<T>& f, const std::vector<Tensor<T>>& inputs) {
  std::vector<Var<T>> vars;
  for (const Tensor<T>& t : inputs) vars.emplace_back(t.clone(), true);
  const Var<T> y = f(vars);
  Run<T> out;
  for (const auto& node : Tape<T>::current().nodes()) out.nodes.insert(node.op);
  out.value = y.value().clone();
  Rng r_rng(99);
  const Var<T> r(r_rng.uniform<T>(y.shape(), -1, 1));
  sum(y * r).backward();
  for (const Var<T>& v : vars) out.grads.push_back(v.grad().clone());
  return out;
}

// Relative to the larger magnitude of the two (1 at least, so tiny tensors compare absolutely).
template <typename T>
void check_close(const Tensor<T>& fused, const Tensor<T>& reference, double tol, const char* what) {
  INFO(what);
  REQUIRE(fused.defined());
  REQUIRE(reference.defined());
  const double scale = std::max({1.0, max_abs(fused), max_abs(reference)});
  CHECK(max_diff(fused, reference) <= tol * scale);
}

template <typename T>
void check_pairs(double tol) {
  Rng rng(14, sizeof(T));
  ReferenceOpsScope fused_path(false);  // whatever FZ_REFERENCE_OPS says
  for (const Pair<T>& p : fused_pairs<T>()) {
    INFO(p.name);
    std::vector<Tensor<T>> inputs;
    for (const Shape& s : p.inputs) inputs.push_back(rng.uniform<T>(s, -1, 1));
    const Run<T> fused = run<T>(p.fused, inputs);
    const Run<T> reference = run<T>(p.reference, inputs);
    CHECK(fused.nodes.count(p.fused_node) == 1);
    CHECK(reference.nodes.count(p.fused_node) == 0);
    check_close(fused.value, reference.value, tol, "value");
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      INFO("gradient of input " << i);
      check_close(fused.grads[i], reference.grads[i], tol, "gradient");
    }
    // The switch: the fused op itself runs the plain form, node for node and bit for bit. The
    // switch also sends the primitive kernels to their xtensor forms (tensor/*_reference.cpp),
    // so the plain form is run again under it for the bitwise comparison.
    ReferenceOpsScope on(true);
    const Run<T> switched = run<T>(p.fused, inputs);
    const Run<T> reference_switched = run<T>(p.reference, inputs);
    CHECK(switched.nodes == reference.nodes);
    CHECK(max_diff(switched.value, reference_switched.value) == 0.0);
    for (std::size_t i = 0; i < inputs.size(); ++i)
      CHECK(max_diff(switched.grads[i], reference_switched.grads[i]) == 0.0);
  }
}

}  // namespace

TEST_CASE("reference ops: every fused op equals its plain form, float64", "[autograd][reference]") {
  check_pairs<double>(1e-12);
}

TEST_CASE("reference ops: every fused op equals its plain form, float32", "[autograd][reference]") {
  check_pairs<float>(2e-5);
}

TEST_CASE("reference ops: the switch is scoped", "[autograd][reference]") {
  const bool before = reference_ops();
  {
    ReferenceOpsScope on(true);
    CHECK(reference_ops());
    {
      ReferenceOpsScope off(false);
      CHECK_FALSE(reference_ops());
    }
    CHECK(reference_ops());
  }
  CHECK(reference_ops() == before);
}

TEST_CASE("reference ops: the spline op runs its plain form under the switch", "[autograd][reference]") {
  Rng rng(3);
  RationalQuadraticSplineOptions o;
  o.bins = 4;
  for (bool inverse : {false, true}) {
    INFO("inverse " << inverse);
    o.inverse = inverse;
    const Tensor64 x = rng.uniform<double>({2, 2, 3}, -3.5, 3.5);
    const Tensor64 theta = rng.normal<double>({2, 2 * (3 * o.bins - 1), 3});
    Var64 a(x.clone(), true), pa(theta.clone(), true);
    Var64 b(x.clone(), true), pb(theta.clone(), true);
    // Both under the switch: it also sends the primitive kernels to their xtensor forms.
    ReferenceOpsScope on(true);
    const auto ref = rational_quadratic_spline_reference(a, pa, o);
    sum(ref.value + ref.log_derivative).backward();
    const auto sw = rational_quadratic_spline(b, pb, o);
    bool fused_node = false;
    for (const auto& node : Tape<double>::current().nodes())
      fused_node = fused_node || std::string(node.op).rfind("rational_quadratic_spline", 0) == 0;
    CHECK_FALSE(fused_node);
    sum(sw.value + sw.log_derivative).backward();
    CHECK(max_diff(sw.value.value(), ref.value.value()) == 0.0);
    CHECK(max_diff(b.grad(), a.grad()) == 0.0);
    CHECK(max_diff(pb.grad(), pa.grad()) == 0.0);
  }
}

// The ops that moved from flows/bijectors/actnorm.cpp into autograd/ get their gradcheck here
// with the others, both forms.
TEST_CASE("reference ops: channel_affine(_relu) and their plain forms pass gradcheck",
          "[autograd][reference][gradcheck]") {
  Rng rng(5);
  const std::vector<Tensor64> in = {rng.uniform<double>({2, 3, 2, 3}, -1, 1),
                                    rng.uniform<double>({3}, 0.5, 1.5),
                                    rng.uniform<double>({3}, -0.5, 0.5)};
  const std::vector<std::pair<const char*, VarFunction64>> ops = {
      {"channel_affine", [](const std::vector<Var64>& v) { return channel_affine(v[0], v[1], v[2]); }},
      {"channel_affine_relu", [](const std::vector<Var64>& v) { return channel_affine_relu(v[0], v[1], v[2]); }},
      {"channel_affine_reference",
       [](const std::vector<Var64>& v) { return channel_affine_reference(v[0], v[1], v[2]); }},
      {"channel_affine_relu_reference",
       [](const std::vector<Var64>& v) { return channel_affine_relu_reference(v[0], v[1], v[2]); }},
  };
  for (const auto& [name, f] : ops) {
    INFO(name);
    const GradcheckResult r = gradcheck(f, in);
    INFO(r.message);
    CHECK(r.ok);
  }
}

// The coupling ops that moved from flows/ (affine_coupling_tanh from flows/transformers/
// affine.cpp, keep_masked from flows/bijectors/coupling.cpp, select_channels behind
// Partition::conditioning_part and permute_channels) get their gradcheck here too.
TEST_CASE("reference ops: the coupling ops moved from flows/ pass gradcheck", "[autograd][reference][gradcheck]") {
  Rng rng(6);
  const CouplingChannels even_odd{{1, 3}, {0, 2}};
  const Tensor64 x = rng.uniform<double>({2, 4, 3}, -1, 1), h = rng.uniform<double>({2, 4, 3}, -1, 1);
  Tensor64 mask({1, 1, 2, 3});
  for (std::size_t i = 0; i < 6; ++i) mask[i] = double(i % 2);
  const std::vector<std::tuple<const char*, VarFunction64, std::vector<Tensor64>>> ops = {
      {"affine_coupling_tanh value",
       [=](const std::vector<Var64>& v) { return affine_coupling_tanh(v[0], v[1], even_odd).value; }, {x, h}},
      {"affine_coupling_tanh logdet",
       [=](const std::vector<Var64>& v) { return affine_coupling_tanh(v[0], v[1], even_odd).logdet; }, {x, h}},
      {"select_channels", [](const std::vector<Var64>& v) { return select_channels(v[0], {3, 1}); }, {x}},
      {"keep_masked", [=](const std::vector<Var64>& v) { return keep_masked(v[0], v[1], mask); },
       {rng.uniform<double>({2, 2, 2, 3}, -1, 1), rng.uniform<double>({2, 2, 2, 3}, -1, 1)}},
  };
  for (const auto& [name, f, in] : ops) {
    INFO(name);
    const GradcheckResult r = gradcheck(f, in);
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("reference ops: the plain forms reject what the fused ops reject", "[autograd][reference]") {
  const Var64 x(Tensor64({2, 3, 4, 4})), s3(Tensor64({3})), s4(Tensor64({4}));
  CHECK_THROWS_WITH(channel_affine_reference(x, s4, s4), Catch::Contains("expected an input (B, 4"));
  CHECK_THROWS_WITH(channel_affine(x, s3, s4), Catch::Contains("scale and shift must both be (C)"));
  CHECK_THROWS_WITH(channel_affine_relu_reference(x, s3, s4), Catch::Contains("scale and shift must both be (C)"));
  const Var64 w(Tensor64({4, 3, 3, 3}));
  CHECK_THROWS_WITH(conv2d_affine_reference(x, w, s3, s3, true, 1, 1),
                    Catch::Contains("scale and shift must both be (4)"));
  CHECK_THROWS_WITH(conv2d_affine_chain_reference(x, false, std::vector<ConvAffineVars<double>>{}),
                    Catch::Contains("no layers"));
  const Var64 w_next(Tensor64({2, 3, 1, 1}));  // takes 3 channels where the first layer gives 4
  CHECK_THROWS_WITH(conv2d_affine_chain_reference(x, false, {{w, s4, s4, true}, {w_next, Var64(Tensor64({2})),
                                                                                 Var64(Tensor64({2})), false}}),
                    Catch::Contains("do not chain"));
  CHECK_THROWS_WITH(linear_reference(Var64(Tensor64({2, 5})), Var64(Tensor64({4, 6}))),
                    Catch::Contains("does not fit weight"));
  CHECK_THROWS_WITH(linear_relu_reference(Var64(Tensor64({2, 5})), Var64(Tensor64({4, 5})), s3),
                    Catch::Contains("bias must have shape (4)"));
  const Var64 v4(Tensor64({2, 4}));
  CHECK_THROWS_WITH(affine_coupling_tanh_reference(v4, v4, CouplingChannels{{0, 1}, {1, 2}}),
                    Catch::Contains("split the 4 channels into two halves of 2"));
  CHECK_THROWS_WITH(affine_coupling_tanh(v4, Var64(Tensor64({2, 2})), CouplingChannels{{0, 1}, {2, 3}}),
                    Catch::Contains("do not fit"));
  CHECK_THROWS_WITH(select_channels_reference(v4, {0, 4}), Catch::Contains("distinct channels below 4"));
  CHECK_THROWS_WITH(select_channels(v4, {1, 1}), Catch::Contains("twice"));
  CHECK_THROWS_WITH(keep_masked_reference(x, x, Tensor64({1, 1, 3, 4})), Catch::Contains("(1, 1, H, W) mask"));
}
