// cli/run_folder.hpp — owning a run folder (`train --out`) for the length of one training:
// - one run per folder: an exclusive flock on <out>/train.lock, held until the process exits,
//   with the holder's PID written into it so a second `train` can say who has the folder;
// - temporary checkpoint/config files (checkpoint.safetensors.tmp.<pid>, ...) left by a killed
//   run are removed once the lock is held: only the lock holder writes them, so any found then
//   are stale;
// - a fresh run never silently replaces an old one: it refuses, or with --force moves the old
//   run's files into a sibling folder.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace fz::cli {

constexpr const char* kRunLockFile = "train.lock";

// The flags asked for something the folder's contents contradict (a run without --resume, a
// --resume with other architecture flags): the CLI exits 2, like other bad flags.
class RunFolderConflict : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class RunFolderLock {
 public:
  // Creates `dir` if needed and takes the lock without waiting. Throws std::runtime_error
  // naming the folder and the PID of the process holding it when that fails.
  explicit RunFolderLock(const std::string& dir);
  ~RunFolderLock();
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

  // Stale temporary files removed when the lock was taken (file names).
  const std::vector<std::string>& removed_temporaries() const { return removed_; }

 private:
  int fd_ = -1;
  std::vector<std::string> removed_;
};

// The files of a previous run present in `dir` that make it "hold a run":
// checkpoint.safetensors and/or metrics.csv (empty when neither exists).
std::vector<std::string> previous_run_markers(const std::string& dir);

// Moves every file a run writes (checkpoint, config, results, metrics, layers.csv, curve, density and
// sample PNGs) from `dir` into a new sibling folder "<dir>.old-<YYYYmmdd-HHMMSS>" (plus "-N"
// if that exists) and returns the new folder's path. Other files in `dir` are left alone.
std::string move_run_aside(const std::string& dir);

// For a fresh (not --resume) run into the locked folder `dir`: when it holds a previous run,
// throws RunFolderConflict (one line naming the folder and the two ways on) unless `force`,
// in which case the old run is moved aside. Returns where it went ("" when nothing was there).
std::string clear_for_fresh_run(const std::string& dir, bool force);

}  // namespace fz::cli
