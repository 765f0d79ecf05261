// tests/flows/test_reference_path.cpp — every preset at a tiny size (tests/flows/tiny_presets.hpp)
// run twice, on the fused ops and under reference_ops() (every fused op as its plain
// composition of primitive ops, tensor/reference_mode.hpp), gives the same per-sample log_prob
// and the same gradient of the training loss for every parameter, in float32 (what training
// runs) and float64; and the reference run records none of the fused ops.
//
// The parameters get N(0, 0.05^2) noise first (after ActNorm's data-dependent initialisation),
// so Glow's zero convolutions and the Split priors are not at their special point 0.
// Tolerances, relative to max(1, the largest magnitude of the compared tensor): float32 1e-5,
// float64 1e-12. The two paths do the same arithmetic in a different order (an fma against a
// multiply and an add, a bias added inside or after a product, partial sums grouped per row or
// per tensor), so each op's output differs by a few ulp (float32: 2^-24 = 6e-8 relative), and
// that passes through a few dozen ops forward and back. Measured when this was written: at
// most 7e-7 in float32 (Glow's images) and 7e-16 in float64; the bounds leave a margin of ~15,
// while a real mistake in a plain form (a missing term, a wrong sign or broadcast) moves the
// numbers by percents.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "autograd/tape.hpp"
#include "flows/image_likelihood.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/reference_mode.hpp"
#include "tests/flows/tiny_presets.hpp"
#include "tests/tensor_compare.hpp"

using namespace fz;
using fz::test::max_abs;
using namespace fz::testing;

namespace {

// The fused ops that have a plain form (autograd/ops_channel_affine.hpp, ops_conv.hpp,
// ops_matmul.hpp, ops_rational_quadratic_spline.hpp, ops_affine_coupling.hpp,
// ops_select_channels.hpp, ops_keep_masked.hpp, ops_linalg.hpp): under reference_ops() none may appear.
const std::set<std::string> kFusedOps = {
    "channel_affine",      "channel_affine_relu",     "conv2d_affine",
    "conv2d_affine_relu",  "relu_conv2d_affine",      "relu_conv2d_affine_relu",
    "conv2d_affine_chain", "linear",                  "linear_relu",
    "rational_quadratic_spline", "rational_quadratic_spline_log_derivative",
    "affine_coupling",     "affine_coupling_logdet",  "keep_masked",
    "select_channels",     "partition_gather",        "permute_channels",
    "lu_compose"};

template <typename T>
struct PathResult {
  Tensor<T> log_prob;
  std::vector<Tensor<T>> grads;  // model->parameters() order
  std::set<std::string> nodes;   // op names on the tape after the forward pass
};

template <typename T>
PathResult<T> run_path(FlowModel<T>& model, const Tensor<T>& x, bool images, bool reference) {
  ReferenceOpsScope scope(reference);
  model.zero_grad();
  const Var<T> lp = model.log_prob(Var<T>(x));
  const Var<T> loss = images ? bits_per_dim(lp, model.dims()) : neg(mean(lp));
  PathResult<T> out;
  for (const auto& node : Tape<T>::current().nodes()) out.nodes.insert(node.op);
  out.log_prob = lp.value().clone();
  loss.backward();
  for (const Var<T>& p : model.parameters())
    out.grads.push_back(p.grad().defined() ? p.grad().clone() : Tensor<T>(p.shape(), T(0)));
  return out;
}

// max |a - b| / max(1, max |a|, max |b|)
template <typename T>
double relative_diff(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m / std::max({1.0, max_abs(a), max_abs(b)});
}

template <typename T>
void check_preset_both_ways(const TinyPreset& p, double lp_tol, double grad_tol) {
  Rng rng(1414);
  auto model = make_flow<T>(p.config, rng);
  const bool images = p.config.event_shape.size() == 3;
  const Shape shape = batch_shape(6, p.config.event_shape);
  Tensor<T> x;
  if (images) {
    TensorU8 pixels(shape);
    for (auto& v : pixels) v = static_cast<std::uint8_t>(rng.below(256));
    x = dequantize<T>(pixels, rng);
  } else {
    x = rng.uniform<T>(shape, p.lo, p.hi);
  }
  model->train();
  {
    NoGradGuard no_grad;  // ActNorm's data-dependent initialisation, as the first training step
    (void)model->log_prob(Var<T>(x));
  }
  for (Var<T> param : model->parameters()) {
    Tensor<T> noise = rng.normal<T>(param.shape(), 0.0, 0.05);
    add_inplace(param.mutable_value(), noise);
  }
  const PathResult<T> fused = run_path(*model, x, images, false);
  const PathResult<T> plain = run_path(*model, x, images, true);

  for (const std::string& op : kFusedOps) {
    INFO("fused op on the reference tape: " << op);
    CHECK(plain.nodes.count(op) == 0);
  }
  std::size_t fused_ops_used = 0;
  for (const std::string& op : kFusedOps) fused_ops_used += fused.nodes.count(op);
  CHECK(fused_ops_used > 0);  // the comparison compares two different paths

  const double lp_diff = relative_diff(fused.log_prob, plain.log_prob);
  INFO("log_prob relative difference " << lp_diff);
  CHECK(std::isfinite(max_abs(fused.log_prob)));
  CHECK(lp_diff <= lp_tol);
  REQUIRE(fused.grads.size() == plain.grads.size());
  double worst = 0;
  for (std::size_t i = 0; i < fused.grads.size(); ++i) worst = std::max(worst, relative_diff(fused.grads[i], plain.grads[i]));
  INFO("worst gradient relative difference " << worst << " over " << fused.grads.size() << " tensors");
  CHECK(worst <= grad_tol);
}

}  // namespace

TEST_CASE("reference path: every tiny preset gives the same log_prob and gradients both ways, "
          "float32", "[flows][reference]") {
  for (const TinyPreset& p : tiny_presets()) {
    if (p.random_training_loss) continue;  // two training-mode passes draw different probes
    SECTION(p.name) { check_preset_both_ways<float>(p, 1e-5, 1e-5); }
  }
}

TEST_CASE("reference path: every tiny preset gives the same log_prob and gradients both ways, "
          "float64", "[flows][reference]") {
  for (const TinyPreset& p : tiny_presets()) {
    if (p.random_training_loss) continue;  // two training-mode passes draw different probes
    SECTION(p.name) { check_preset_both_ways<double>(p, 1e-12, 1e-12); }
  }
}
