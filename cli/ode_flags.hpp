// cli/ode_flags.hpp — the flags of a continuous flow's ODE solver (--ode-solver, --ode-steps,
// --ode-rtol, --ode-atol), checked against the model and the solver after parsing and written
// into the run's PresetConfig (so config.json, eval, sample, density and --resume use them).
//
// They are for --model ffjord only, --ode-steps for rk4 only and the tolerances for dopri5 only:
// giving one where it does nothing is a bad flag (exit 2), not a silent no-op. The ranges
// (RunLimits::kMaxOdeSteps, tolerances in (0, 1)) are checked by the parsers, and again by
// RunConfig::validate for configurations read from files.
#pragma once

#include <cstddef>
#include <string>

#include "cli/run_config.hpp"

namespace fz::cli {

// The values as parsed; empty / 0 = the flag was not given (each default is PresetConfig's).
struct OdeFlags {
  std::string solver;
  std::size_t steps = 0;
  double rtol = 0;
  double atol = 0;
};

// Throws FlagError (cli/flag_checks.hpp: exit 2) with one line naming the flag for a flag that
// the model or the solver does not use; otherwise copies the given values into c.model.
void apply_ode_flags(RunConfig& c, const OdeFlags& flags);

}  // namespace fz::cli
