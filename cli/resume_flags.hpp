// cli/resume_flags.hpp — what `train --resume` does with the flags given next to it. The run
// is rebuilt from the configuration saved in its checkpoint; a flag the user typed is then
// - refused when it would change the model's parameter shapes, its data or the saved state
//   (architecture, dataset, density, bits, image size, channels, optimizer, Polyak averaging):
//   the checkpoint could not be loaded, or the run would silently become a different one;
// - applied, with a one-line warning when it differs from the saved value, when it only
//   changes how training continues (learning rate and its schedule, warmup, clipping, threads, batch, seed,
//   data location, run length, evaluation and checkpoint cadence).
// Only flags given explicitly count (main.cpp collects them with CLI11's count()).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "cli/run_config.hpp"

namespace fz::cli {

// `saved` with the applicable flags of `given` applied. Throws RunFolderConflict
// (cli/run_folder.hpp) listing every refused difference as "--flag saved X, given Y";
// appends one warning per applied change ("--lr 0.0005 replaces the saved 0.001").
RunConfig merge_resume_flags(const RunConfig& saved, const RunConfig& given, const std::set<std::string>& given_flags,
                             const std::string& run_dir, std::vector<std::string>& warnings);

}  // namespace fz::cli
