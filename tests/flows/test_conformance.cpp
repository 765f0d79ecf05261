// tests/flows/test_conformance.cpp — the bijector conformance harness. Every entry of
// all_bijector_cases() is checked in float64 for:
//   1. round trip: inverse(forward(x)) == x and forward(inverse(z)) == z;
//   2. log-det: forward's per-sample log|det J| equals log|det| of that sample's full Jacobian,
//      computed independently (central differences + LU slogdet), never by the layer's formula;
//   3. forward and inverse log-dets cancel;
//   4. gradients: d/d(parameters) and d/d(input) of a random scalar of (output, log-det) agree
//      with central differences;
//   5. edge inputs give finite outputs and log-dets.
// Batch norm's gradients are checked in training mode too (batch statistics), and the
// non-bijector modules of a flow (all_module_cases(): Split, the base distributions) get their
// log-density checked against an independent computation and their input and parameter
// gradients against central differences.
// Layers with data-dependent state (ActNorm's init, batch-norm statistics) first see one
// training batch; the checks then run in eval mode, where each sample is transformed alone.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/linalg.hpp"
#include "flows/split.hpp"
#include "tests/flows/bijector_registry.hpp"

using namespace fz;
using namespace fz::testing;

namespace {

double max_abs_diff(const Tensor64& a, const Tensor64& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

bool all_finite(const Tensor64& t) {
  for (double v : t)
    if (!std::isfinite(v)) return false;
  return true;
}

// Builds the case's bijector, perturbs its parameters, shows it one training batch, and
// leaves it in eval mode.
std::shared_ptr<Bijector<double>> prepare(const BijectorCase& c, Rng& rng) {
  auto b = c.make(rng);
  if (c.param_noise > 0) {
    for (Var64 p : b->parameters()) {
      Tensor64 noise = rng.normal<double>(p.shape(), 0.0, c.param_noise);
      add_inplace(p.mutable_value(), noise);
    }
  }
  b->train();
  {
    NoGradGuard no_grad;
    b->forward(Var64(rng.uniform<double>(c.input_shape, c.input_lo, c.input_hi)));
  }
  b->eval();
  return b;
}

Tensor64 sample_slice(const Tensor64& x, std::size_t b) {
  const std::size_t per = x.numel() / x.shape()[0];
  Shape s = x.shape();
  s[0] = 1;
  Tensor64 out(s);
  std::copy(x.begin() + b * per, x.begin() + (b + 1) * per, out.begin());
  return out;
}

}  // namespace

TEST_CASE("conformance: every bijector round-trips and its log-det is exact", "[flows][conformance]") {
  for (const BijectorCase& c : all_bijector_cases()) {
    SECTION(c.name) {
      INFO("bijector: " << c.name);
      Rng rng(1234);
      auto bij = prepare(c, rng);
      NoGradGuard no_grad;
      const Tensor64 x = rng.uniform<double>(c.input_shape, c.input_lo, c.input_hi);
      Transformed<double> fwd = bij->forward(Var64(x));
      REQUIRE(fwd.logdet.shape() == Shape{c.input_shape[0]});
      REQUIRE(fwd.value.shape() == bij->forward_shape(c.input_shape));

      // 1. round trips
      Transformed<double> back = bij->inverse(fwd.value);
      CHECK(max_abs_diff(back.value.value(), x) < 1e-9);
      const Tensor64 z = fwd.value.value();
      CHECK(max_abs_diff(bij->forward(bij->inverse(Var64(z)).value).value.value(), z) < 1e-9);

      // 3. forward and inverse log-dets cancel
      CHECK(max_abs_diff(add(fwd.logdet.value(), back.logdet.value()),
                         Tensor64(fwd.logdet.shape(), 0.0)) < 1e-9);

      // 2. log-det against the full Jacobian of each sample, computed by finite differences
      for (std::size_t b = 0; b < c.input_shape[0]; ++b) {
        const Tensor64 xb = sample_slice(x, b);
        auto f = [&](const Tensor64& in) { return bij->forward(Var64(in)).value.value(); };
        const Tensor64 jac = numeric_jacobian(f, xb, 1e-6);
        REQUIRE(jac.shape()[0] == jac.shape()[1]);
        const auto det = slogdet(jac);
        INFO("sample " << b);
        CHECK(det.sign != 0.0);
        CHECK(std::abs(det.logabsdet - fwd.logdet.value()[b]) < c.logdet_tolerance * std::max(1.0, std::abs(det.logabsdet)) + 1e-6);
      }

      // 5. edge inputs stay finite
      for (double edge : c.edge_values) {
        INFO("edge value " << edge);
        Transformed<double> e = bij->forward(Var64(Tensor64(c.input_shape, edge)));
        CHECK(all_finite(e.value.value()));
        CHECK(all_finite(e.logdet.value()));
      }
    }
  }
}

// Autoregressive layers: output order[a] depends only on inputs order[0..a], so the
// finite-difference Jacobian with rows and columns taken in the order is lower triangular —
// the entries above the diagonal are exactly 0 (not merely small), and those on it nonzero.
TEST_CASE("conformance: autoregressive layers have a triangular Jacobian in their order", "[flows][conformance]") {
  std::size_t checked = 0;
  for (const BijectorCase& c : all_bijector_cases()) {
    if (!c.autoregressive_order) continue;
    SECTION(c.name) {
      INFO("autoregressive bijector: " << c.name);
      Rng rng(4321);
      auto bij = prepare(c, rng);
      const std::vector<std::size_t> order = c.autoregressive_order(*bij);
      NoGradGuard no_grad;
      const Tensor64 x = rng.uniform<double>(c.input_shape, c.input_lo, c.input_hi);
      for (std::size_t b = 0; b < c.input_shape[0]; ++b) {
        auto f = [&](const Tensor64& in) { return bij->forward(Var64(in)).value.value(); };
        const Tensor64 jac = numeric_jacobian(f, sample_slice(x, b), 1e-6);
        const std::size_t d = order.size();
        REQUIRE(jac.shape() == Shape{d, d});
        for (std::size_t r = 0; r < d; ++r) {
          INFO("sample " << b << ", output " << order[r] << " (position " << r << ")");
          CHECK(jac[order[r] * d + order[r]] != 0.0);
          for (std::size_t col = r + 1; col < d; ++col) CHECK(jac[order[r] * d + order[col]] == 0.0);
        }
      }
    }
    ++checked;
  }
  REQUIRE(checked >= 8);
}

namespace {

// Gradient check of one prepared bijector in its current mode (eval or training).
void check_gradients(const BijectorCase& c, std::shared_ptr<Bijector<double>> bij, Rng& rng) {
  {
    {
      const Tensor64 x = rng.uniform<double>(c.input_shape, c.input_lo, c.input_hi);
      const Tensor64 w_out = rng.normal<double>(bij->forward_shape(c.input_shape));
      const Tensor64 w_ld = rng.normal<double>({c.input_shape[0]});
      // L = sum(w_out * y) + sum(w_ld * logdet): touches every output and the log-det.
      auto loss = [&](const Var64& in) {
        Transformed<double> t = bij->forward(in);
        return sum(t.value * Var64(w_out)) + sum(t.logdet * Var64(w_ld));
      };
      auto loss_value = [&](const Tensor64& in) {
        NoGradGuard no_grad;
        return loss(Var64(in)).value().item();
      };
      bij->zero_grad();
      Var64 xin(x.clone(), true);
      loss(xin).backward();

      const double eps = 1e-6;
      auto check_entry = [&](double analytic, double numeric, const std::string& where) {
        INFO(where << ": analytic " << analytic << " numeric " << numeric);
        CHECK(std::abs(analytic - numeric) <= 1e-5 + 1e-4 * std::abs(numeric));
      };
      // input gradient, every element
      for (std::size_t j = 0; j < x.numel(); ++j) {
        Tensor64 xp = x.clone(), xm = x.clone();
        xp[j] += eps;
        xm[j] -= eps;
        check_entry(xin.grad()[j], (loss_value(xp) - loss_value(xm)) / (2 * eps),
                    "d/dx[" + std::to_string(j) + "]");
      }
      // parameter gradients: up to 12 entries of each parameter
      for (auto& [name, p] : bij->named_parameters()) {
        Tensor64 grad = p.grad().defined() ? p.grad().clone() : Tensor64(p.shape(), 0.0);
        const std::size_t n = p.numel();
        const std::size_t step = std::max<std::size_t>(1, n / 12);
        for (std::size_t j = 0; j < n; j += step) {
          Var64 handle = p;
          const double orig = handle.value()[j];
          handle.mutable_value()[j] = orig + eps;
          const double lp = loss_value(x);
          handle.mutable_value()[j] = orig - eps;
          const double lm = loss_value(x);
          handle.mutable_value()[j] = orig;
          check_entry(grad[j], (lp - lm) / (2 * eps), name + "[" + std::to_string(j) + "]");
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("conformance: parameter and input gradients match central differences", "[flows][conformance]") {
  for (const BijectorCase& c : all_bijector_cases()) {
    SECTION(c.name) {
      INFO("bijector: " << c.name);
      Rng rng(99);
      check_gradients(c, prepare(c, rng), rng);
    }
  }
}

// Batch norm in training mode normalises with the batch's own statistics, so every output
// depends on every sample of the batch: a different function from eval mode, with gradients
// through the mean and variance. (The per-sample log-det check does not apply there: the
// Jacobian of the batch transformation is not block-diagonal per sample.)
TEST_CASE("conformance: training-mode gradients (batch statistics) match central differences",
          "[flows][conformance]") {
  std::size_t checked = 0;
  for (const BijectorCase& c : all_bijector_cases()) {
    if (!c.check_training_mode) continue;
    SECTION(c.name) {
      INFO("bijector (training mode): " << c.name);
      Rng rng(98);
      auto bij = prepare(c, rng);
      bij->train();
      check_gradients(c, bij, rng);
    }
    ++checked;
  }
  REQUIRE(checked >= 2);
}

// Split (the kept half, the factored-out half and its prior's log-density) and the base
// distributions: log-density against an independent computation from the parameters, the
// split's halves merging back to the input, and the gradients of a random weighted sum of
// every output with respect to the input and every parameter.
TEST_CASE("conformance: Split and the base distributions — log-density and gradients",
          "[flows][conformance]") {
  for (const ModuleCase& c : all_module_cases()) {
    SECTION(c.name) {
      INFO("module: " << c.name);
      Rng rng(97);
      auto module = c.make(rng);
      for (Var64 p : module->parameters()) {
        Tensor64 noise = rng.normal<double>(p.shape(), 0.0, c.param_noise);
        add_inplace(p.mutable_value(), noise);
      }
      const Tensor64 x = rng.uniform<double>(c.input_shape, -2.0, 2.0);
      std::vector<Var64> outs;
      {
        NoGradGuard no_grad;
        outs = c.outputs(*module, Var64(x));
      }
      const Tensor64 log_prob = outs.back().value();
      REQUIRE(log_prob.shape() == Shape{c.input_shape[0]});
      if (c.reference_log_prob) CHECK(max_abs_diff(log_prob, c.reference_log_prob(*module, x)) < 1e-10);
      if (auto* split = dynamic_cast<Split<double>*>(module.get())) {
        NoGradGuard no_grad;
        CHECK(max_abs_diff(split->inverse(outs[0], outs[1]).value(), x) == 0.0);
      }
      std::vector<Tensor64> weights;
      for (const Var64& o : outs) weights.push_back(rng.normal<double>(o.shape()));
      auto loss = [&](const Var64& in) {
        const std::vector<Var64> o = c.outputs(*module, in);
        Var64 total = sum(o[0] * Var64(weights[0]));
        for (std::size_t i = 1; i < o.size(); ++i) total = total + sum(o[i] * Var64(weights[i]));
        return total;
      };
      auto loss_value = [&](const Tensor64& in) {
        NoGradGuard no_grad;
        return loss(Var64(in)).value().item();
      };
      module->zero_grad();
      Var64 xin(x.clone(), true);
      loss(xin).backward();
      const double eps = 1e-6;
      auto check_entry = [&](double analytic, double numeric, const std::string& where) {
        INFO(where << ": analytic " << analytic << " numeric " << numeric);
        CHECK(std::abs(analytic - numeric) <= 1e-6 + 1e-5 * std::abs(numeric));
      };
      for (std::size_t j = 0; j < x.numel(); ++j) {
        Tensor64 xp = x.clone(), xm = x.clone();
        xp[j] += eps;
        xm[j] -= eps;
        check_entry(xin.grad()[j], (loss_value(xp) - loss_value(xm)) / (2 * eps),
                    "d/dx[" + std::to_string(j) + "]");
      }
      std::size_t params_checked = 0;
      for (auto& [name, p] : module->named_parameters()) {
        REQUIRE(p.grad().defined());
        const Tensor64 grad = p.grad().clone();
        const std::size_t step = std::max<std::size_t>(1, p.numel() / 12);
        for (std::size_t j = 0; j < p.numel(); j += step) {
          Var64 handle = p;
          const double orig = handle.value()[j];
          handle.mutable_value()[j] = orig + eps;
          const double lp = loss_value(x);
          handle.mutable_value()[j] = orig - eps;
          const double lm = loss_value(x);
          handle.mutable_value()[j] = orig;
          check_entry(grad[j], (lp - lm) / (2 * eps), name + "[" + std::to_string(j) + "]");
          ++params_checked;
        }
      }
      // The learned prior and the diagonal Gaussian have parameters, and they were checked.
      if (!module->parameters().empty()) CHECK(params_checked > 0);
    }
  }
}
