// flows/ode/dormand_prince.hpp — the adaptive Dormand-Prince 5(4) method ("dopri5", the
// default solver of FFJORD and of MATLAB's ode45): 7 stages per step, the 5th-order solution
// propagated, the embedded 4th-order one giving the local error estimate, the last stage reused
// as the first of the next step (FSAL: 6 new evaluations per step).
//
// Step-size control (Hairer, Norsett & Wanner, "Solving ODEs I", II.4):
//   err = RMS over every element of every part of  (y5 - y4) / (atol + rtol * max(|y|, |y5|))
//   the step is accepted when err <= 1; the next step is h * clamp(0.9 err^(-1/5), 0.2, 10)
//   (at most h after a rejection). The first step comes from Hairer's starting rule (one extra,
//   unrecorded evaluation) unless `first_step` gives it.
// The error norm, the accept/reject decisions and the step sizes are computed from the values
// and are constants for the gradient: backward differentiates the accepted steps (a rejected
// trial leaves unreachable nodes on the tape, which backward skips).
//
// Failure is an error, never a hang: more than `max_steps` attempted steps (accepted plus
// rejected) throws OdeStepCapError naming the cap and the time reached; a step size that
// underflows throws it too. A right-hand side that is already non-finite at the start (NaN
// parameters, a diverged training run) cannot be helped by any step size: the solver then
// returns y0 + (t1 - t0) f(t0, y0), non-finite, so the caller's loss is NaN and its divergence
// guard decides (flows/divergence_guard.hpp).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "ode_state.hpp"

namespace fz {

struct DormandPrinceOptions {
  double rtol = 1e-5;
  double atol = 1e-5;
  std::size_t max_steps = 1000;  // attempted steps, accepted and rejected
  double first_step = 0;         // 0 = Hairer's starting rule
};

// Thrown when the adaptive solver cannot reach t1 within its step cap.
class OdeStepCapError : public std::runtime_error {
 public:
  OdeStepCapError(const std::string& what, double t_reached)
      : std::runtime_error(what), t_reached_(t_reached) {}
  double t_reached() const { return t_reached_; }

 private:
  double t_reached_;
};

// y(t1) from y(t0) = y0 (t1 < t0 integrates backwards). Throws std::invalid_argument for
// tolerances that are not positive and finite or a cap of 0, OdeStepCapError as above. Adds its
// evaluations and accepted/rejected steps to `stats`.
template <typename T>
OdeState<T> integrate_dormand_prince(const OdeFunction<T>& f, const OdeState<T>& y0, double t0, double t1,
                                     const DormandPrinceOptions& options, OdeStats& stats);

extern template OdeState<float> integrate_dormand_prince(const OdeFunction<float>&, const OdeState<float>&, double,
                                                         double, const DormandPrinceOptions&, OdeStats&);
extern template OdeState<double> integrate_dormand_prince(const OdeFunction<double>&, const OdeState<double>&,
                                                          double, double, const DormandPrinceOptions&, OdeStats&);

}  // namespace fz
