// cli/data_parallel.cpp — the flag checks and the failure path of a data-parallel `train`.
#include "cli/data_parallel.hpp"

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "cli/flag_checks.hpp"
#include "cli/run_folder.hpp"

namespace fz::cli {

void check_data_parallel_flags(const TrainRequest& req, const RunConfig& config, const Collective& c) {
  if (!c.distributed()) return;
  const auto ranks = static_cast<std::size_t>(c.size());
  if (config.batch % ranks != 0)
    throw FlagError("--batch " + std::to_string(config.batch) + " does not divide evenly among the " +
                    std::to_string(ranks) + " MPI ranks (--batch is the global batch: give a multiple of " +
                    std::to_string(ranks) + ")");
  if (req.log_layers) throw FlagError("--log-layers is not available when training over several MPI ranks");
}

StepAgreement agree_on_step(Collective& c, bool interrupted, double seconds) {
  if (!c.distributed()) return {interrupted, seconds};
  double both[2] = {interrupted ? 1.0 : 0.0, is_lead(c) ? seconds : 0.0};
  c.allreduce_sum(both, 2);
  return {both[0] > 0.5, both[1]};
}

int exit_code_for(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const FlagError&) {
    return kExitBadFlag;
  } catch (const RunFolderConflict&) {
    return kExitBadFlag;
  } catch (...) {
    return kExitError;
  }
}

void abort_all_ranks(Collective& c, const std::string& what, int exit_code) {
  std::fprintf(stderr, "flowzoo (rank %d of %d): %s; stopping all ranks\n", c.rank(), c.size(), what.c_str());
  c.abort(exit_code);
  std::_Exit(exit_code);  // not reached: Collective::abort does not return
}

}  // namespace fz::cli
