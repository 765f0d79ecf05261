// cli/ode_flags.cpp — --ode-solver, --ode-steps, --ode-rtol, --ode-atol against the model and solver.
#include "cli/ode_flags.hpp"

#include "cli/flag_checks.hpp"

namespace fz::cli {

void apply_ode_flags(RunConfig& c, const OdeFlags& f) {
  const bool any = !f.solver.empty() || f.steps || f.rtol > 0 || f.atol > 0;
  if (!any) return;
  const char* first = !f.solver.empty() ? "--ode-solver" : f.steps ? "--ode-steps" : f.rtol > 0 ? "--ode-rtol" : "--ode-atol";
  if (c.model.model != "ffjord")
    throw FlagError(std::string(first) + " is for a continuous flow (--model ffjord), not " + c.model.model);
  const std::string solver = f.solver.empty() ? c.model.ode_solver : f.solver;
  if (f.steps && solver != "rk4")
    throw FlagError("--ode-steps is for the fixed-step solver (--ode-solver rk4), not " + solver);
  if ((f.rtol > 0 || f.atol > 0) && solver != "dopri5")
    throw FlagError(std::string(f.rtol > 0 ? "--ode-rtol" : "--ode-atol") +
                    " is for the adaptive solver (--ode-solver dopri5), not " + solver);
  c.model.ode_solver = solver;
  if (f.steps) c.model.ode_steps = f.steps;
  if (f.rtol > 0) c.model.ode_rtol = f.rtol;
  if (f.atol > 0) c.model.ode_atol = f.atol;
}

}  // namespace fz::cli
