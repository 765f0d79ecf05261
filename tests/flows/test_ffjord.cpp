// tests/flows/test_ffjord.cpp — the ODE solvers (flows/ode/), the CNF velocity field and its
// Jacobian-vector products (flows/conditioners/ode_dynamics.hpp) and the FFJORD bijector
// (flows/bijectors/ffjord.hpp), float64 unless noted:
//   - a linear field f(z) = A z, whose flow is z(1) = expm(A) z(0) with log-det tr(A): RK4's
//     error falls as h^4, Dormand-Prince's with the tolerance, through the solvers and through
//     the bijector (an MLP without hidden layers is exactly linear);
//   - the hand-propagated J v against central differences of f;
//   - the log-det against log|det| of the finite-difference Jacobian of the solution map;
//   - a gradcheck of the RK4 forward and log-det with respect to the input and the parameters;
//   - Hutchinson's estimate: its mean over many probes is the exact trace within 4 standard errors;
//   - round trips, the step cap's error, a non-finite field, the eval-mode exact trace;
//   - the ffjord preset trains on two moons a little (the NLL falls).
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_matmul.hpp"
#include "autograd/ops_reduce.hpp"
#include "datasets/toy2d.hpp"
#include "flows/flow_model.hpp"
#include "flows/bijectors/ffjord.hpp"
#include "flows/ode/dormand_prince.hpp"
#include "flows/ode/rk4.hpp"
#include "flows/presets.hpp"
#include "flows/trainer.hpp"
#include "tensor/linalg.hpp"

using namespace fz;

namespace {

// A = [[a, b], [-b, a]]: expm(A) = e^a [[cos b, sin b], [-sin b, cos b]], tr A = 2a.
constexpr double kA = -0.3, kB = 1.7;

// z (B, 2) rows mapped by expm(A): z1 = z0 expm(A)^T.
Tensor64 expm_rows(const Tensor64& z) {
  const double e = std::exp(kA), c = std::cos(kB), s = std::sin(kB);
  Tensor64 out(z.shape());
  for (std::size_t b = 0; b < z.shape()[0]; ++b) {
    const double x = z[2 * b], y = z[2 * b + 1];
    out[2 * b] = e * (c * x + s * y);
    out[2 * b + 1] = e * (-s * x + c * y);
  }
  return out;
}

double max_abs_diff(const Tensor64& a, const Tensor64& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// dz/dt = A z with the constant trace tr A as the second part.
OdeFunction<double> linear_field() {
  const Var64 at(Tensor64({2, 2}, {kA, -kB, kB, kA}));  // A^T, for rows
  return [at](double, const OdeState<double>& y) {
    return OdeState<double>{matmul(y[0], at), Var64(Tensor64({y[0].shape()[0]}, 2 * kA))};
  };
}

OdeState<double> linear_start() {
  return {Var64(Tensor64({3, 2}, {1.0, 0.0, -0.5, 2.0, 0.3, -1.2})), Var64(Tensor64({3}))};
}

// The error of z(1) against expm(A) z(0), and of the log-det against tr A.
double linear_error(const OdeState<double>& y0, const OdeState<double>& y1) {
  double err = max_abs_diff(y1[0].value(), expm_rows(y0[0].value()));
  for (double l : y1[1].value()) err = std::max(err, std::abs(l - 2 * kA));
  return err;
}

// Row b of a (B, D) tensor as (1, D).
Tensor64 row(const Tensor64& x, std::size_t b) {
  const std::size_t d = x.shape()[1];
  return Tensor64({1, d}, std::vector<double>(x.begin() + b * d, x.begin() + (b + 1) * d));
}

// A CNF block with perturbed parameters (the last layer starts at zero: the identity).
std::shared_ptr<Ffjord<double>> perturbed_ffjord(std::size_t d, std::size_t hidden, std::size_t layers,
                                                 const FfjordOptions& options, Rng& rng, double scale = 0.5) {
  auto dynamics = std::make_shared<OdeDynamics<double>>(d, hidden, layers, rng);
  for (Var64 p : dynamics->parameters()) add_inplace(p.mutable_value(), rng.normal<double>(p.shape(), 0.0, scale));
  return std::make_shared<Ffjord<double>>(dynamics, options, 7);
}

FfjordOptions rk4_options(std::size_t steps) {
  FfjordOptions o;
  o.solver.method = "rk4";
  o.solver.steps = steps;
  return o;
}

FfjordOptions dopri5_options(double tol) {
  FfjordOptions o;
  o.solver.method = "dopri5";
  o.solver.rtol = tol;
  o.solver.atol = tol;
  return o;
}

}  // namespace

TEST_CASE("ode: RK4 on a linear field converges to expm(A) z at order 4", "[flows][ffjord]") {
  const OdeState<double> y0 = linear_start();
  std::vector<double> errors;
  for (std::size_t steps : {4, 8, 16, 32}) {
    OdeStats stats;
    const OdeState<double> y1 = integrate_rk4(linear_field(), y0, 0.0, 1.0, steps, stats);
    CHECK(stats.function_evaluations == 4 * steps);
    CHECK(stats.accepted_steps == steps);
    errors.push_back(linear_error(y0, y1));
  }
  INFO("errors " << errors[0] << " " << errors[1] << " " << errors[2] << " " << errors[3]);
  for (std::size_t i = 1; i < errors.size(); ++i) {
    // Halving h divides a 4th-order error by 16; 10 leaves room for the asymptotic regime.
    CHECK(errors[i - 1] / errors[i] > 10.0);
    CHECK(errors[i - 1] / errors[i] < 25.0);
  }
  CHECK(errors.back() < 1e-6);
  // Backwards from t = 1 to 0 undoes the map (to the same order).
  OdeStats stats;
  const OdeState<double> back = integrate_rk4(linear_field(), {Var64(expm_rows(y0[0].value())), y0[1]}, 1.0, 0.0,
                                              32, stats);
  CHECK(max_abs_diff(back[0].value(), y0[0].value()) < 1e-6);
  for (double l : back[1].value()) CHECK(std::abs(l + 2 * kA) < 1e-12);  // a constant trace integrates exactly
}

TEST_CASE("ode: Dormand-Prince on a linear field meets its tolerance, with fewer steps when looser",
          "[flows][ffjord]") {
  const OdeState<double> y0 = linear_start();
  double previous_error = 1e300;
  std::size_t previous_nfe = 0;
  for (double tol : {1e-3, 1e-6, 1e-9}) {
    DormandPrinceOptions o;
    o.rtol = tol;
    o.atol = tol;
    OdeStats stats;
    const OdeState<double> y1 = integrate_dormand_prince(linear_field(), y0, 0.0, 1.0, o, stats);
    const double err = linear_error(y0, y1);
    INFO("tol " << tol << ": error " << err << ", " << stats.function_evaluations << " evaluations, "
                << stats.accepted_steps << " accepted, " << stats.rejected_steps << " rejected");
    CHECK(err < 20 * tol);  // a global error of the order of the local tolerance
    CHECK(err < previous_error / 50);
    CHECK(stats.function_evaluations > previous_nfe);
    // FSAL: 6 new evaluations per attempted step, plus the first evaluation and the starting probe.
    CHECK(stats.function_evaluations == 6 * (stats.accepted_steps + stats.rejected_steps) + 2);
    previous_error = err;
    previous_nfe = stats.function_evaluations;
  }
}

TEST_CASE("ode: Dormand-Prince stops at its step cap with an error naming the cap and the time", "[flows][ffjord]") {
  DormandPrinceOptions o;
  o.rtol = 1e-12;
  o.atol = 1e-12;
  o.max_steps = 5;
  OdeStats stats;
  try {
    integrate_dormand_prince(linear_field(), linear_start(), 0.0, 1.0, o, stats);
    FAIL("no error at the cap");
  } catch (const OdeStepCapError& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("cap of 5 steps") != std::string::npos);
    CHECK(what.find("t = ") != std::string::npos);
    CHECK(e.t_reached() > 0.0);
    CHECK(e.t_reached() < 1.0);
  }
  CHECK(stats.accepted_steps + stats.rejected_steps == 5);
  // A field that is NaN from the start gives a NaN state at once (no step size helps), not a hang.
  const OdeFunction<double> nan_field = [](double, const OdeState<double>& y) {
    return OdeState<double>{Var64(Tensor64(y[0].shape(), std::nan(""))), Var64(Tensor64(y[1].shape()))};
  };
  OdeStats nan_stats;
  const OdeState<double> y = integrate_dormand_prince(nan_field, linear_start(), 0.0, 1.0, DormandPrinceOptions{}, nan_stats);
  CHECK(std::isnan(y[0].value()[0]));
  CHECK(nan_stats.function_evaluations == 1);
}

TEST_CASE("ffjord: an MLP without hidden layers is a linear field with the closed-form flow", "[flows][ffjord]") {
  for (const char* method : {"rk4", "dopri5"}) {
    INFO(method);
    Rng rng(3);
    FfjordOptions o = std::string(method) == "rk4" ? rk4_options(32) : dopri5_options(1e-9);
    auto dynamics = std::make_shared<OdeDynamics<double>>(2, 8, 0, rng);
    // weight (2, 3) = [A | 0] (no time term), bias 0: f(z, t) = A z.
    auto params = dynamics->parameters();
    params[0].mutable_value().copy_from(Tensor64({2, 3}, {kA, kB, 0.0, -kB, kA, 0.0}));
    params[1].mutable_value().fill(0.0);
    Ffjord<double> flow(dynamics, o);
    const Tensor64 x = linear_start()[0].value();
    const Transformed<double> fwd = flow.forward(Var64(x));
    CHECK(max_abs_diff(fwd.value.value(), expm_rows(x)) < 1e-6);
    for (double l : fwd.logdet.value()) CHECK(std::abs(l - 2 * kA) < 1e-9);
    const Transformed<double> back = flow.inverse(fwd.value);
    CHECK(max_abs_diff(back.value.value(), x) < 1e-6);
    for (double l : back.logdet.value()) CHECK(std::abs(l + 2 * kA) < 1e-9);
  }
}

TEST_CASE("ffjord: the dynamics' Jacobian-vector products equal central differences of f", "[flows][ffjord]") {
  for (OdeActivation act : {OdeActivation::Tanh, OdeActivation::Softplus}) {
    Rng rng(11);
    OdeDynamics<double> f(3, 5, 2, rng, act);
    for (Var64 p : f.parameters()) add_inplace(p.mutable_value(), rng.normal<double>(p.shape(), 0.0, 0.5));
    const Tensor64 z = rng.uniform<double>({2, 3}, -1.5, 1.5);
    const Tensor64 v = rng.normal<double>({4, 2, 3});
    const double t = 0.37;
    const VelocityWithJvp<double> r = f.velocity_and_jvp(t, Var64(z), Var64(v));
    CHECK(max_abs_diff(r.velocity.value(), f.velocity(t, Var64(z)).value()) == 0.0);
    for (std::size_t b = 0; b < 2; ++b) {
      const Tensor64 jac = numeric_jacobian([&](const Tensor64& in) { return f.velocity(t, Var64(in)).value(); }, row(z, b));
      for (std::size_t m = 0; m < 4; ++m)
        for (std::size_t i = 0; i < 3; ++i) {
          double jv = 0;
          for (std::size_t j = 0; j < 3; ++j) jv += jac[i * 3 + j] * v[(m * 2 + b) * 3 + j];
          CHECK(std::abs(r.jvp.value()[(m * 2 + b) * 3 + i] - jv) < 1e-8);
        }
    }
  }
}

TEST_CASE("ffjord: the log-det equals log|det| of the finite-difference Jacobian of the solution map",
          "[flows][ffjord]") {
  struct Case {
    const char* name;
    FfjordOptions options;
    double tolerance;
  };
  // RK4's integrated trace approximates the log-det of its own map to O(h^4); dopri5 to its tolerance.
  for (const Case& k : {Case{"rk4 64 steps", rk4_options(64), 1e-6}, Case{"dopri5 1e-9", dopri5_options(1e-9), 1e-6}}) {
    INFO(k.name);
    Rng rng(5);
    auto flow = perturbed_ffjord(2, 6, 2, k.options, rng);
    NoGradGuard no_grad;
    const Tensor64 x = rng.uniform<double>({4, 2}, -2.0, 2.0);
    const Transformed<double> fwd = flow->forward(Var64(x));
    double moved = 0;  // the field is not trivial: points move and volumes change
    for (std::size_t b = 0; b < 4; ++b) {
      const Tensor64 jac = numeric_jacobian([&](const Tensor64& in) { return flow->forward(Var64(in)).value.value(); },
                                            row(x, b), 1e-5);
      const auto det = slogdet(jac);
      INFO("sample " << b << ": log-det " << fwd.logdet.value()[b] << ", numeric " << det.logabsdet);
      CHECK(std::abs(det.logabsdet - fwd.logdet.value()[b]) < k.tolerance);
      moved = std::max(moved, std::abs(fwd.logdet.value()[b]));
    }
    CHECK(moved > 0.05);
  }
}

TEST_CASE("ffjord: gradcheck of the RK4 forward and log-det (input and parameters)", "[flows][ffjord]") {
  Rng rng(9);
  auto flow = perturbed_ffjord(2, 3, 1, rk4_options(2), rng);
  std::vector<Tensor64> inputs = {rng.uniform<double>({2, 2}, -1.0, 1.0)};
  for (const Var64& p : flow->parameters()) inputs.push_back(p.value().clone());
  const auto result = gradcheck(
      [&](const std::vector<Var64>& in) {
        const std::vector<Var64> params(in.begin() + 1, in.end());
        const Transformed<double> out = flow->forward_with(in[0], params);
        return concat({reshape(out.value, {4}), out.logdet}, 0);
      },
      inputs);
  INFO(result.message);
  CHECK(result.ok);
  CHECK(result.entries_checked > 100);
}

TEST_CASE("ffjord: Hutchinson's estimate averages to the exact trace within 4 standard errors", "[flows][ffjord]") {
  Rng rng(13);
  FfjordOptions o = rk4_options(4);
  o.exact_trace_max_dims = 0;  // Hutchinson in training mode, exact in eval mode (D = 4 <= 64)
  for (bool gaussian : {false, true}) {
    INFO((gaussian ? "Gaussian" : "Rademacher") << " probes");
    o.gaussian_probes = gaussian;
    auto flow = perturbed_ffjord(4, 8, 2, o, rng);
    NoGradGuard no_grad;
    // One point repeated: every copy draws its own probe along the same trajectory.
    const std::size_t n = 4000;
    const Tensor64 point = rng.uniform<double>({1, 4}, -1.0, 1.0);
    Tensor64 x({n, 4});
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < 4; ++j) x[i * 4 + j] = point[j];
    flow->train();
    REQUIRE_FALSE(flow->exact_trace());
    const Tensor64 estimates = flow->forward(Var64(x)).logdet.value();
    flow->eval();
    REQUIRE(flow->exact_trace());
    const Transformed<double> exact = flow->forward(Var64(point));
    double mean = 0, sq = 0;
    for (double e : estimates) mean += e / double(n);
    for (double e : estimates) sq += (e - mean) * (e - mean);
    const double se = std::sqrt(sq / double(n - 1) / double(n));
    INFO("mean " << mean << " +- " << se << ", exact " << exact.logdet.value()[0]);
    CHECK(se > 0);  // the estimates vary: the probes are random
    CHECK(std::abs(mean - exact.logdet.value()[0]) < 4 * se);
  }
}

TEST_CASE("ffjord: round trips within the solver's tolerance, float64 and float32", "[flows][ffjord]") {
  Rng rng(17);
  const Tensor64 x = rng.uniform<double>({16, 2}, -2.0, 2.0);
  for (double tol : {1e-5, 1e-8}) {
    auto flow = perturbed_ffjord(2, 16, 2, dopri5_options(tol), rng);
    NoGradGuard no_grad;
    const Transformed<double> fwd = flow->forward(Var64(x));
    const Transformed<double> back = flow->inverse(fwd.value);
    const double err = max_abs_diff(back.value.value(), x);
    double logdet_err = 0;
    for (std::size_t b = 0; b < 16; ++b)
      logdet_err = std::max(logdet_err, std::abs(fwd.logdet.value()[b] + back.logdet.value()[b]));
    WARN("dopri5 tolerance " << tol << ": round-trip error " << err << ", log-det error " << logdet_err << " ("
                             << flow->stats().function_evaluations << " evaluations both ways)");
    CHECK(err < 100 * tol);
    CHECK(logdet_err < 100 * tol);
  }
  // float32 at the preset's defaults (the CLI's models).
  PresetConfig c;
  c.model = "ffjord";
  c.event_shape = {2};
  c.hidden = 16;
  Rng init(2);
  auto model = make_flow<float>(c, init);
  for (Var32 p : model->parameters()) add_inplace(p.mutable_value(), init.normal<float>(p.shape(), 0.0f, 0.3f));
  model->eval();
  NoGradGuard no_grad;
  const Tensor<float> xf = x.cast<float>();
  const Encoding<float> enc = model->encode(Var32(xf));
  const Transformed<float> dec = model->decode(enc.latents);
  double err = 0;
  for (std::size_t i = 0; i < xf.numel(); ++i) err = std::max(err, double(std::abs(dec.value.value()[i] - xf[i])));
  WARN("float32 ffjord preset (dopri5 1e-4): round-trip error " << err);
  CHECK(err < 1e-3);
}

TEST_CASE("ffjord: the preset is deterministic in eval mode and learns two moons", "[flows][ffjord]") {
  PresetConfig c;
  c.model = "ffjord";
  c.event_shape = {2};
  c.hidden = 32;
  c.blocks = 2;
  c.ode_solver = "rk4";
  c.ode_steps = 4;
  Rng init(4);
  auto model = make_flow<float>(c, init);
  TrainerOptions options;
  options.lr = 3e-3;
  Trainer<float> trainer(model, options, 5);
  const Tensor<float> test = sample_toy2d<float>(Toy2D::Moons, 512, 999);
  const double before = trainer.evaluate_continuous(test, 512);
  CHECK(trainer.evaluate_continuous(test, 512) == before);  // exact trace: no probe draws
  for (std::size_t s = 0; s < 60; ++s) trainer.step_continuous(sample_toy2d<float>(Toy2D::Moons, 256, 1000 + s));
  const double after = trainer.evaluate_continuous(test, 512);
  INFO("test NLL " << before << " -> " << after);
  CHECK(std::isfinite(after));
  CHECK(after < before - 0.3);
}
