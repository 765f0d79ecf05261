// tests/autograd/test_optim.cpp — optimiser update rules against hand-computed steps (the
// numbers were worked out independently from PyTorch's documented formulas), gradient
// clipping, learning-rate schedules, EMA averaging and optimiser checkpoints.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "autograd/optim/adam.hpp"
#include "autograd/optim/clip.hpp"
#include "autograd/optim/ema.hpp"
#include "autograd/optim/schedule.hpp"
#include "autograd/optim/sgd.hpp"

using namespace fz;

namespace {

// The gradients fed at steps 1, 2, 3 to a two-element parameter starting at (1, -0.5).
const double kGrads[3][2] = {{0.5, 0.1}, {-1.0, 0.2}, {2.0, -0.3}};

template <typename T>
void set_grad(Var<T>& p, double g0, double g1) {
  p.zero_grad();
  p.accumulate_grad(Tensor<T>({2}, {static_cast<T>(g0), static_cast<T>(g1)}));
}

// Runs three steps and checks the parameter after each against `expected`.
template <typename T, typename Opt>
void check_three_steps(Var<T>& p, Opt& opt, const double (&expected)[3][2], double tol) {
  for (int s = 0; s < 3; ++s) {
    set_grad(p, kGrads[s][0], kGrads[s][1]);
    opt.step();
    INFO("step " << s + 1);
    REQUIRE(p.value()[0] == Approx(expected[s][0]).epsilon(tol));
    REQUIRE(p.value()[1] == Approx(expected[s][1]).epsilon(tol));
  }
  REQUIRE(opt.step_count() == 3);
}

template <typename T>
Var<T> start_param() {
  return Var<T>(Tensor<T>({2}, {T(1), T(-0.5)}), true);
}

}  // namespace

TEST_CASE("sgd: plain steps are p -= lr * g", "[optim]") {
  Var64 p = start_param<double>();
  SGD<double> opt({p}, 0.1);
  const double expected[3][2] = {{0.95, -0.51}, {1.05, -0.53}, {0.85, -0.5}};
  check_three_steps(p, opt, expected, 1e-12);
}

TEST_CASE("sgd: momentum with weight decay", "[optim]") {
  // Step 1: g = 0.5 + 0.1*1 = 0.6, b = 0.6, p = 1 - 0.06 = 0.94
  // Step 2: g = -1 + 0.094 = -0.906, b = 0.54 - 0.906 = -0.366, p = 0.9766
  // Step 3: g = 2.09766, b = -0.3294 + 2.09766 = 1.76826, p = 0.799774
  Var64 p = start_param<double>();
  SGDOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.weight_decay = 0.1;
  SGD<double> opt({p}, o);
  const double expected[3][2] = {{0.94, -0.505}, {0.9766, -0.52445}, {0.799774, -0.5067105}};
  check_three_steps(p, opt, expected, 1e-12);
}

TEST_CASE("sgd: nesterov momentum and dampening", "[optim]") {
  SECTION("nesterov") {
    // Step 1: b = 0.5, d = 0.5 + 0.9*0.5 = 0.95, p = 0.905
    // Step 2: b = 0.45 - 1 = -0.55, d = -1 - 0.495 = -1.495, p = 1.0545
    Var64 p = start_param<double>();
    SGDOptions o;
    o.lr = 0.1;
    o.momentum = 0.9;
    o.nesterov = true;
    SGD<double> opt({p}, o);
    const double expected[3][2] = {{0.905, -0.519}, {1.0545, -0.5651}, {0.71905, -0.53159}};
    check_three_steps(p, opt, expected, 1e-12);
  }
  SECTION("dampening (not applied on the first step)") {
    Var32 p = start_param<float>();
    SGDOptions o;
    o.lr = 0.1;
    o.momentum = 0.9;
    o.dampening = 0.5;
    SGD<float> opt({p}, o);
    const double expected[3][2] = {{0.95, -0.51}, {0.955, -0.529}, {0.8595, -0.5311}};
    check_three_steps(p, opt, expected, 1e-6);
  }
  SECTION("nesterov needs momentum") {
    SGDOptions o;
    o.nesterov = true;
    Var64 p = start_param<double>();
    REQUIRE_THROWS_AS(SGD<double>({p}, o), std::invalid_argument);
  }
}

TEST_CASE("adam: bias-corrected steps, with and without L2 weight decay", "[optim]") {
  // Step 1 of element 0: m = 0.05, v = 0.00025, m^ = 0.5, v^ = 0.25,
  // p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002.
  SECTION("no decay, float64") {
    Var64 p = start_param<double>();
    Adam<double> opt({p}, 0.1);
    const double expected[3][2] = {{0.900000002, -0.59999999},
                                   {0.936610354241, -0.696518186479},
                                   {0.894644792718, -0.689858285229}};
    check_three_steps(p, opt, expected, 1e-10);
  }
  SECTION("no decay, float32") {
    Var32 p = start_param<float>();
    Adam<float> opt({p}, 0.1);
    const double expected[3][2] = {{0.900000002, -0.59999999},
                                   {0.936610354241, -0.696518186479},
                                   {0.894644792718, -0.689858285229}};
    check_three_steps(p, opt, expected, 1e-6);
  }
  SECTION("L2 weight decay enters the gradient") {
    Var64 p = start_param<double>();
    AdamOptions o;
    o.lr = 0.1;
    o.weight_decay = 0.1;
    Adam<double> opt({p}, o);
    const double expected[3][2] = {{0.900000001667, -0.59999998},
                                   {0.925263519446, -0.692608919532},
                                   {0.877617260805, -0.66006716461}};
    check_three_steps(p, opt, expected, 1e-10);
  }
}

TEST_CASE("adamw: decoupled weight decay shrinks the parameter first", "[optim]") {
  // Step 1 of element 0: p = 1 * (1 - 0.1*0.1) = 0.99, then the Adam step -0.1*(1-2e-8).
  Var64 p = start_param<double>();
  AdamW<double> opt({p}, 0.1, 0.1);
  const double expected[3][2] = {{0.890000002, -0.59499999},
                                 {0.917710354221, -0.685568186579},
                                 {0.866567689156, -0.672052603463}};
  check_three_steps(p, opt, expected, 1e-10);
  REQUIRE(opt.type_name() == "AdamW");
}

TEST_CASE("adamax: infinity-norm steps", "[optim]") {
  SECTION("defaults, lr 0.1") {
    // Step 2 of element 0: m = 0.045 - 0.1 = -0.055, u = max(0.999*0.5, 1 + 1e-8),
    // p = 0.9 - 0.1/0.19 * (-0.055) / (1 + 1e-8) = 0.92894737.
    Var64 p = start_param<double>();
    Adamax<double> opt({p}, 0.1);
    const double expected[3][2] = {{0.900000002, -0.59999999},
                                   {0.928947370132, -0.676315775658},
                                   {0.901179842595, -0.671518727847}};
    check_three_steps(p, opt, expected, 1e-10);
  }
  SECTION("beta2 = 0.5 (the max picks the decayed value) and weight decay, float32") {
    Var32 p = start_param<float>();
    AdamOptions o;
    o.lr = 0.1;
    o.beta2 = 0.5;
    o.weight_decay = 0.1;
    Adamax<float> opt({p}, o);
    const double expected[3][2] = {{0.900000001667, -0.59999998},
                                   {0.921399654404, -0.669548846971},
                                   {0.890372612896, -0.649391440013}};
    check_three_steps(p, opt, expected, 1e-6);
  }
}

TEST_CASE("optimizer: parameters without a gradient are skipped, with their own step count",
          "[optim]") {
  Var64 a = start_param<double>();
  Var64 b = start_param<double>();
  Adam<double> opt({a, b}, 0.1);
  set_grad(a, 0.5, 0.1);
  opt.step();  // b has no gradient: untouched
  REQUIRE(b.value()[0] == 1.0);
  REQUIRE(a.value()[0] == Approx(0.900000002).epsilon(1e-10));
  opt.zero_grad();
  REQUIRE(!a.grad().defined());
  // b's first update uses t = 1 (bias corrections of a first step), like a fresh Adam.
  set_grad(b, 0.5, 0.1);
  opt.step();
  REQUIRE(b.value()[0] == Approx(0.900000002).epsilon(1e-10));
  REQUIRE(opt.step_count() == 2);
}

TEST_CASE("optimizer: argument errors", "[optim]") {
  Var64 p = start_param<double>();
  REQUIRE_THROWS_AS(SGD<double>({p, p}, 0.1), std::invalid_argument);
  REQUIRE_THROWS_AS(SGD<double>({p}, -1.0), std::invalid_argument);
  AdamOptions o;
  o.beta1 = 1.0;
  REQUIRE_THROWS_WITH(Adam<double>({p}, o), Catch::Contains("beta1"));
  SGD<double> opt({p}, 0.1);
  REQUIRE_THROWS_AS(opt.set_lr(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  opt.set_lr(0.5);
  REQUIRE(opt.lr() == 0.5);
}

TEST_CASE("optimizer: state_dict round trip resumes exactly", "[optim]") {
  Var64 p = start_param<double>();
  Adam<double> opt({p}, 0.1);
  for (int s = 0; s < 2; ++s) {
    set_grad(p, kGrads[s][0], kGrads[s][1]);
    opt.step();
  }
  StateDict<double> state = opt.state_dict();
  REQUIRE(state.names() == std::vector<std::string>{"step", "state.0.step", "state.0.exp_avg",
                                                    "state.0.exp_avg_sq"});
  REQUIRE(state.at("step").item() == 2.0);
  REQUIRE(state.at("state.0.exp_avg")[0] == Approx(-0.055));

  // A fresh optimiser on a copy of the parameter, loaded from the state, takes step 3 the same.
  Var64 q(p.value().clone(), true);
  Adam<double> resumed({q}, 0.1);
  resumed.load_state_dict(state);
  REQUIRE(resumed.step_count() == 2);
  set_grad(p, kGrads[2][0], kGrads[2][1]);
  set_grad(q, kGrads[2][0], kGrads[2][1]);
  opt.step();
  resumed.step();
  REQUIRE(q.value()[0] == p.value()[0]);
  REQUIRE(q.value()[1] == p.value()[1]);
  REQUIRE(q.value()[0] == Approx(0.894644792718).epsilon(1e-10));

  // Errors: a state from another optimiser, and a parameter of another shape.
  SGDOptions so;
  so.momentum = 0.9;
  SGD<double> sgd({q}, so);
  REQUIRE_THROWS_WITH(sgd.load_state_dict(state), Catch::Contains("momentum_buffer"));
  Var64 r(Tensor64({3}), true);
  Adam<double> other({r}, 0.1);
  REQUIRE_THROWS_WITH(other.load_state_dict(state), Catch::Contains("(2,)") && Catch::Contains("(3,)"));
  REQUIRE(other.step_count() == 0);
}

TEST_CASE("clip: clip_grad_norm scales all gradients together", "[optim]") {
  Var64 a(Tensor64({2}, {0, 0}), true);
  Var64 b(Tensor64({1}, {0}), true);
  Var64 none(Tensor64({1}, {0}), true);  // no gradient: ignored
  a.accumulate_grad(Tensor64({2}, {3, 4}));
  b.accumulate_grad(Tensor64({1}, {12}));
  std::vector<Var64> params{a, b, none};
  REQUIRE(grad_norm(params) == Approx(13.0));
  // Under the limit: unchanged.
  REQUIRE(clip_grad_norm(params, 20.0) == Approx(13.0));
  REQUIRE(a.grad()[0] == 3.0);
  // Over the limit: scaled by 6.5 / (13 + 1e-6).
  REQUIRE(clip_grad_norm(params, 6.5) == Approx(13.0));
  const double c = 6.5 / (13.0 + 1e-6);
  REQUIRE(a.grad()[0] == Approx(3 * c).epsilon(1e-12));
  REQUIRE(a.grad()[1] == Approx(4 * c).epsilon(1e-12));
  REQUIRE(b.grad()[0] == Approx(12 * c).epsilon(1e-12));
  REQUIRE(grad_norm(params) == Approx(6.5).epsilon(1e-6));
  REQUIRE(grads_finite(params));
}

TEST_CASE("clip: non-finite norms are reported, gradients left alone", "[optim]") {
  Var32 a(Tensor32({2}, {0, 0}), true);
  a.accumulate_grad(Tensor32({2}, {1.0f, std::numeric_limits<float>::infinity()}));
  std::vector<Var32> params{a};
  REQUIRE(!grads_finite(params));
  const double n = clip_grad_norm(params, 1.0);
  REQUIRE(!std::isfinite(n));
  REQUIRE(a.grad()[0] == 1.0f);
  REQUIRE_THROWS_AS(clip_grad_norm(params, 1.0, true), std::runtime_error);
  Var32 b(Tensor32({1}, {0}), true);
  b.accumulate_grad(Tensor32({1}, {std::nanf("")}));
  REQUIRE(std::isnan(clip_grad_norm(std::vector<Var32>{b}, 1.0)));
}

TEST_CASE("clip: clip_grad_value clamps elementwise", "[optim]") {
  Var64 a(Tensor64({3}, {0, 0, 0}), true);
  a.accumulate_grad(Tensor64({3}, {-5, 0.25, 3}));
  clip_grad_value(std::vector<Var64>{a}, 0.5);
  REQUIRE(a.grad().to_vector() == std::vector<double>{-0.5, 0.25, 0.5});
}

TEST_CASE("schedule: linear warmup then constant / cosine / exponential / step", "[optim]") {
  SECTION("constant") {
    LrSchedule s = constant_schedule(0.01, 4);
    REQUIRE(s.lr_at(0) == Approx(0.0025));
    REQUIRE(s.lr_at(1) == Approx(0.005));
    REQUIRE(s.lr_at(3) == Approx(0.01));
    REQUIRE(s.lr_at(1000) == Approx(0.01));
    REQUIRE(constant_schedule(0.01).lr_at(0) == 0.01);
  }
  SECTION("cosine to min_lr") {
    LrSchedule s = cosine_schedule(1.0, 10, 110, 0.1);
    REQUIRE(s.lr_at(0) == Approx(0.1));
    REQUIRE(s.lr_at(4) == Approx(0.5));
    REQUIRE(s.lr_at(9) == Approx(1.0));
    REQUIRE(s.lr_at(10) == Approx(1.0));
    REQUIRE(s(35) == Approx(0.1 + 0.45 * (1 + std::sqrt(0.5))));  // t = 25 of 100: cos(pi/4)
    REQUIRE(s(60) == Approx(0.55));                                // halfway
    REQUIRE(s(110) == Approx(0.1));
    REQUIRE(s(5000) == Approx(0.1));
    REQUIRE_THROWS_AS(cosine_schedule(1.0, 10, 10), std::invalid_argument);
  }
  SECTION("exponential") {
    LrSchedule s = exponential_schedule(2.0, 4, 0.5);
    REQUIRE(s(1) == Approx(1.0));
    REQUIRE(s(4) == Approx(2.0));
    REQUIRE(s(6) == Approx(0.5));
    REQUIRE(exponential_schedule(2.0, 0, 0.5)(3) == Approx(0.25));
  }
  SECTION("step") {
    LrSchedule s = step_schedule(1.0, 0, 10, 0.1);
    REQUIRE(s(9) == Approx(1.0));
    REQUIRE(s(10) == Approx(0.1));
    REQUIRE(s(25) == Approx(0.01));
    REQUIRE_THROWS_AS(step_schedule(1.0, 0, 0, 0.1), std::invalid_argument);
  }
  SECTION("driving an optimiser") {
    Var64 p(Tensor64({1}, {0}), true);
    SGD<double> opt({p}, 1.0);
    LrSchedule s = constant_schedule(1.0, 2);
    for (int i = 0; i < 3; ++i) {
      opt.set_lr(s.lr_at(opt.step_count()));
      p.zero_grad();
      p.accumulate_grad(Tensor64({1}, {-1}));
      opt.step();
    }
    REQUIRE(p.value()[0] == Approx(0.5 + 1.0 + 1.0));
  }
}

TEST_CASE("ema: shadow averages, warmup decay, swap in and out", "[optim]") {
  Var64 p(Tensor64({1}, {1}), true);
  SECTION("fixed decay") {
    EMA<double> ema({p}, 0.9);
    p.mutable_value()[0] = 2;
    ema.update();  // 0.9 * 1 + 0.1 * 2
    REQUIRE(ema.shadows()[0][0] == Approx(1.1));
    p.mutable_value()[0] = 3;
    ema.update();  // 0.9 * 1.1 + 0.1 * 3
    REQUIRE(ema.shadows()[0][0] == Approx(1.29));
    REQUIRE(ema.num_updates() == 2);

    ema.swap_in();
    REQUIRE(p.value()[0] == Approx(1.29));
    REQUIRE_THROWS_AS(ema.update(), std::logic_error);
    REQUIRE_THROWS_AS(ema.swap_in(), std::logic_error);
    ema.swap_out();
    REQUIRE(p.value()[0] == 3.0);
    {
      EmaScope<double> scope(ema);
      REQUIRE(p.value()[0] == Approx(1.29));
    }
    REQUIRE(p.value()[0] == 3.0);
    REQUIRE_THROWS_AS(ema.swap_out(), std::logic_error);
  }
  SECTION("warmup: decay min(d, (1 + n) / (10 + n))") {
    EMA<double> ema({p}, 0.999, true);
    REQUIRE(ema.current_decay() == Approx(0.1));
    p.mutable_value()[0] = 2;
    ema.update();  // 0.1 * 1 + 0.9 * 2 = 1.9
    REQUIRE(ema.shadows()[0][0] == Approx(1.9));
    p.mutable_value()[0] = 3;
    ema.update();  // 2/11 * 1.9 + 9/11 * 3 = 2.8
    REQUIRE(ema.shadows()[0][0] == Approx(2.8));
  }
  SECTION("state round trip and copy_to_params") {
    EMA<float> ema({Var32(Tensor32({2}, {1, 2}), true)}, 0.5);
    Var32 q = ema.params()[0];
    q.mutable_value().fill(3);
    ema.update();  // (2, 2.5)
    StateDict<float> state = ema.state_dict();
    EMA<float> other({Var32(Tensor32({2}, {0, 0}), true)}, 0.5);
    other.load_state_dict(state);
    REQUIRE(other.num_updates() == 1);
    other.copy_to_params();
    REQUIRE(other.params()[0].value().to_vector() == std::vector<float>{2.0f, 2.5f});
    EMA<float> wrong({Var32(Tensor32({3}), true)}, 0.5);
    REQUIRE_THROWS_AS(wrong.load_state_dict(state), std::invalid_argument);
  }
}

TEST_CASE("ema: restart starts the averages from the current parameters", "[optim]") {
  // As after ActNorm's data-dependent initialisation: the parameters change before the first update.
  Var64 p(Tensor64({2}, {0, 0}), true);
  EMA<double> ema({p}, 0.9);
  p.mutable_value()[0] = 5;
  p.mutable_value()[1] = -2;
  ema.restart();
  REQUIRE(ema.shadows()[0].to_vector() == std::vector<double>{5, -2});
  REQUIRE(ema.num_updates() == 0);
  p.mutable_value()[0] = 6;
  ema.update();  // 0.9 * 5 + 0.1 * 6, not 0.9 * 0 + 0.1 * 6
  REQUIRE(ema.shadows()[0][0] == Approx(5.1));
  REQUIRE(ema.shadows()[0][1] == Approx(-2.0));
  ema.swap_in();
  REQUIRE_THROWS_AS(ema.restart(), std::logic_error);
  ema.swap_out();
}

TEST_CASE("optimizer: set_step_count moves the run's count, not the per-parameter counts", "[optim]") {
  Var64 p(Tensor64({1}, {1}), true);
  Adam<double> opt({p}, 0.1);
  p.accumulate_grad(Tensor64({1}, {1}));
  opt.step();
  const double after_one = p.value()[0];
  opt.set_step_count(10);
  REQUIRE(opt.step_count() == 10);
  REQUIRE(opt.state_dict().at("state.0.step")[0] == 1.0);
  // The next update is the parameter's second: bias corrections for t = 2, not 11.
  Var64 q(Tensor64({1}, {1}), true);
  Adam<double> ref({q}, 0.1);
  for (int i = 0; i < 2; ++i) {
    q.zero_grad();
    q.accumulate_grad(Tensor64({1}, {1}));
    ref.step();
  }
  p.zero_grad();
  p.accumulate_grad(Tensor64({1}, {1}));
  opt.step();
  REQUIRE(p.value()[0] == q.value()[0]);
  REQUIRE(after_one != p.value()[0]);
  REQUIRE(opt.step_count() == 11);
}

TEST_CASE("optim: Adam names the gradient norm its squared moments survive; SGD has no limit", "[optim]") {
  Var<float> p(Tensor<float>({3}, 1.0f), true);
  Adam<float> adam({p}, 1e-3);
  const double limit = adam.largest_safe_gradient_norm();
  // One step at a gradient of that norm (all in one element) keeps the second moment finite...
  p.accumulate_grad(Tensor<float>({3}, {static_cast<float>(limit), 0.0f, 0.0f}));
  adam.step();
  for (const auto& [name, t] : adam.state_dict())
    for (std::size_t i = 0; i < t.numel(); ++i) CHECK(std::isfinite(t[i]));
  // ...while 32 times more (twice sqrt(max float)) overflows float when squared.
  CHECK(!std::isfinite(static_cast<float>(32 * limit) * static_cast<float>(32 * limit)));
  SGD<float> sgd({p}, 0.1);
  CHECK(std::isinf(sgd.largest_safe_gradient_norm()));
}
