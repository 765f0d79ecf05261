// cli/data_parallel.hpp — what `flowzoo train` does differently when started as several ranks
// (mpirun -np N build/flowzoo train ...; flows/collective.hpp): which rank writes, the flags
// such a run refuses, the per-step agreements that keep every rank on the same branch, and a
// failing rank taking the others down with it instead of leaving them waiting in a collective.
//
// Rank 0 (the "lead") alone takes the run folder's lock and writes config, metrics,
// checkpoints, samples, plots, results and the console output; every rank trains, evaluates
// its share and joins every collective. A run's state (parameters, optimiser, generator) is the
// same on every rank, so its checkpoint does not depend on the number of ranks: --resume works
// with any N (with the same N the resumed run is the one the uninterrupted run would have been).
#pragma once

#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "flows/collective.hpp"

namespace fz::cli {

inline bool is_lead(const Collective& c) { return c.rank() == 0; }

// Throws FlagError for what a run over `c.size()` ranks cannot do: a --batch that does not
// divide evenly among the ranks, --log-layers (its per-term evaluation is single-process).
void check_data_parallel_flags(const TrainRequest& req, const RunConfig& config, const Collective& c);

// What every rank decides the step loop on, agreed in one small allreduce per step: whether
// any rank was signalled, and rank 0's clock (the ranks' clocks differ; time-based decisions —
// the --minutes budget, checkpoint intervals — must not). On a single process: the inputs.
struct StepAgreement {
  bool stop = false;
  double seconds = 0.0;
};
StepAgreement agree_on_step(Collective& c, bool interrupted, double seconds);

// The exit code a failure would have had on a single process (as cli/main.cpp maps them).
int exit_code_for(const std::exception_ptr& failure);

// Prints "flowzoo (rank r of N): <what>" on stderr and ends every rank with `exit_code`.
[[noreturn]] void abort_all_ranks(Collective& c, const std::string& what, int exit_code);

}  // namespace fz::cli
