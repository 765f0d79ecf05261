// tests/flows/test_no_grad_inputs.cpp — the branches gradcheck never takes: gradcheck marks
// every input as requiring a gradient, but a model's first layer gets data that does not, and
// a frozen parameter does not either. For channel_affine, channel_affine_relu, conv2d_affine
// and conv2d_affine_chain, with each input in turn left without a gradient:
//   - the value equals the plain ops (conv2d, broadcast multiply/add, relu), and the value
//     with gradients on equals, bit for bit, the forward under NoGradGuard (which skips saving
//     the GEMM layouts in autograd/ops_conv.cpp: a different path through the kernels);
//   - the gradients that are asked for equal the plain ops' (float64, 1e-12; float32, a few
//     ulps of the gradient's scale), and the input left out gets none.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"
#include "flows/bijectors/actnorm.hpp"
#include "tensor/random.hpp"
#include "tests/tensor_compare.hpp"

using namespace fz;
using fz::test::max_abs;
using fz::test::max_diff;

namespace {

// An op under test: inputs[0] is the data, the rest parameters. fused and plain build the
// same function from the same leaves.
template <typename T>
struct OpCase {
  const char* name;
  std::vector<Tensor<T>> inputs;
  std::function<Var<T>(const std::vector<Var<T>>&)> fused, plain;
};

// For each input left without a gradient (and, as a baseline, none left out): value against
// the plain ops and against the no-grad forward, and every requested gradient.
template <typename T>
void check_case(const OpCase<T>& c, double tol, Rng& rng) {
  INFO("op " << c.name);
  Tensor<T> no_grad_value;
  {
    NoGradGuard guard;
    std::vector<Var<T>> v;
    for (const auto& t : c.inputs) v.emplace_back(t, false);
    const Var<T> y = c.fused(v);
    CHECK(!y.requires_grad());
    no_grad_value = y.value();
  }
  const Tensor<T> r = rng.uniform<T>(no_grad_value.shape(), -1, 1);
  for (std::size_t left_out = 0; left_out <= c.inputs.size(); ++left_out) {
    INFO("input without gradient: " << (left_out == c.inputs.size() ? std::string("none")
                                                                     : std::to_string(left_out)));
    std::vector<Var<T>> f, p;
    for (std::size_t i = 0; i < c.inputs.size(); ++i) {
      f.emplace_back(c.inputs[i].clone(), i != left_out);
      p.emplace_back(c.inputs[i].clone(), i != left_out);
    }
    const Var<T> fy = c.fused(f);
    // Gradients on or off, the forward value is the same to the bit.
    CHECK(fy.value().to_vector() == no_grad_value.to_vector());
    sum(fy * Var<T>(r)).backward();
    const Var<T> py = c.plain(p);
    CHECK(max_diff(fy.value(), py.value()) <= tol * (1 + max_abs(py.value())));
    sum(py * Var<T>(r)).backward();
    for (std::size_t i = 0; i < c.inputs.size(); ++i) {
      INFO("gradient of input " << i);
      if (i == left_out) {
        CHECK(!f[i].grad().defined());
        continue;
      }
      REQUIRE(f[i].grad().defined());
      CHECK(max_diff(f[i].grad(), p[i].grad()) <= tol * (1 + max_abs(p[i].grad())));
    }
  }
}

template <typename T>
Var<T> per_channel(const Var<T>& v) {
  return reshape(v, Shape{1, v.shape()[0], 1, 1});
}

template <typename T>
std::vector<OpCase<T>> cases(Rng& rng) {
  auto u = [&](const Shape& s) { return rng.uniform<T>(s, -1, 1); };
  std::vector<OpCase<T>> out;
  const Shape x_shape{3, 4, 5, 7};
  out.push_back({"channel_affine", {u(x_shape), u({4}), u({4})},
                 [](const std::vector<Var<T>>& v) { return channel_affine(v[0], v[1], v[2]); },
                 [](const std::vector<Var<T>>& v) { return v[0] * per_channel(v[1]) + per_channel(v[2]); }});
  out.push_back({"channel_affine_relu", {u(x_shape), u({4}), u({4})},
                 [](const std::vector<Var<T>>& v) { return channel_affine_relu(v[0], v[1], v[2]); },
                 [](const std::vector<Var<T>>& v) {
                   return relu(v[0] * per_channel(v[1]) + per_channel(v[2]));
                 }});
  // conv2d_affine: 3x3 same (plane path, 6 outputs: skinny GEMM), 1x1, 3x3 with 13 outputs
  // (packed GEMM), and stride 2 (the composed path); every relu combination.
  struct Geo { std::size_t cout, k, stride, pad; };
  for (Geo g : {Geo{6, 3, 1, 1}, Geo{5, 1, 1, 0}, Geo{13, 3, 1, 1}, Geo{3, 3, 2, 1}})
    for (int mode = 0; mode < 4; ++mode) {
      const bool relu_out = mode & 1, relu_in = mode & 2;
      out.push_back({"conv2d_affine", {u(x_shape), u({g.cout, 4, g.k, g.k}), u({g.cout}), u({g.cout})},
                     [=](const std::vector<Var<T>>& v) {
                       return conv2d_affine(v[0], v[1], v[2], v[3], relu_out, g.stride, g.pad, relu_in);
                     },
                     [=](const std::vector<Var<T>>& v) {
                       Var<T> y = conv2d(relu_in ? relu(v[0]) : v[0], v[1], Var<T>(), g.stride, g.pad) *
                                      per_channel(v[2]) +
                                  per_channel(v[3]);
                       return relu_out ? relu(y) : y;
                     }});
    }
  // conv2d_affine_chain: Glow's 3x3 -> 1x1 -> 3x3 and RealNVP's relu -> 3x3 -> relu -> 3x3.
  for (bool relu_in : {false, true}) {
    std::vector<Tensor<T>> in{u(x_shape), u({8, 4, 3, 3}), u({8}), u({8}), u({6, 8, 1, 1}),
                              u({6}), u({6}), u({2, 6, 3, 3}), u({2}), u({2})};
    const bool relus[] = {true, !relu_in, false};
    const std::size_t ks[] = {3, 1, 3};
    out.push_back({"conv2d_affine_chain", in,
                   [=](const std::vector<Var<T>>& v) {
                     std::vector<ConvAffineVars<T>> layers;
                     for (std::size_t i = 0; i < 3; ++i)
                       layers.push_back({v[1 + 3 * i], v[2 + 3 * i], v[3 + 3 * i], relus[i]});
                     return conv2d_affine_chain(v[0], relu_in, layers);
                   },
                   [=](const std::vector<Var<T>>& v) {
                     Var<T> h = relu_in ? relu(v[0]) : v[0];
                     for (std::size_t i = 0; i < 3; ++i) {
                       h = conv2d(h, v[1 + 3 * i], Var<T>(), 1, ks[i] / 2) * per_channel(v[2 + 3 * i]) +
                           per_channel(v[3 + 3 * i]);
                       if (relus[i]) h = relu(h);
                     }
                     return h;
                   }});
  }
  return out;
}

}  // namespace

TEST_CASE("no-grad inputs: fused per-channel and convolution ops with an input that needs no "
          "gradient equal the plain ops (float64)", "[flows][autograd][no-grad]") {
  Rng rng(31);
  for (const OpCase<double>& c : cases<double>(rng)) check_case(c, 1e-12, rng);
}

TEST_CASE("no-grad inputs: the same in float32, and the no-grad forward is bit-identical",
          "[flows][autograd][no-grad]") {
  Rng rng(32);
  // Sums of at most 4 * 9 * 3 * 35 products of O(1) values: 2e-5 relative to the result's scale
  // is ~ 170 float ulps, far above the reordering error and far below any wrong term.
  for (const OpCase<float>& c : cases<float>(rng)) check_case(c, 2e-5, rng);
}
