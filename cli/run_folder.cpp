// cli/run_folder.cpp — the run folder's lock, stale temporary files, and moving an old run aside.
#include "cli/run_folder.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace fz::cli {

namespace fs = std::filesystem;

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Temporary files of an atomic write (tensor/atomic_file.hpp: checkpoint, config, the metrics
// rewrite of --resume), whatever suffix the writer used (".tmp.<pid>"; ".tmp" from older versions).
bool is_temporary(const std::string& name) {
  for (const char* file : {"checkpoint.safetensors", "config.json", "results.json", "metrics.csv", "layers.csv"})
    if (starts_with(name, std::string(file) + ".tmp")) return true;
  return false;
}

bool is_run_file(const std::string& name) {
  static const char* kNames[] = {"checkpoint.safetensors", "config.json", "results.json", "metrics.csv",
                                 "layers.csv", "curve.png", "density.png"};
  for (const char* n : kNames)
    if (name == n) return true;
  return is_temporary(name) || (starts_with(name, "samples_") && ends_with(name, ".png"));
}

// The PID recorded in the lock file, or "unknown" (a holder that has not written it yet).
std::string recorded_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

// `dir` without a trailing separator, absolute, so "." and "runs/x/" have a usable name.
fs::path folder_path(const std::string& dir) {
  fs::path p = fs::absolute(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p;
}

}  // namespace

RunFolderLock::RunFolderLock(const std::string& dir) {
  fs::create_directories(dir);
  const std::string path = (fs::path(dir) / kRunLockFile).string();
  // O_CLOEXEC: a child process (a test's fork + exec) must not inherit the lock.
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot open the run lock '" + path + "': " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = recorded_pid(fd_);
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw std::runtime_error("'" + dir + "' is in use by another training (PID " + holder + ", see " + path +
                               "); wait for it to finish or choose another --out");
    throw std::runtime_error("cannot lock '" + path + "': " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot write the run lock '" + path + "': " + std::strerror(err));
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && is_temporary(name)) {
      fs::remove(entry.path());
      removed_.push_back(name);
    }
  }
}

RunFolderLock::~RunFolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor releases the flock
}

std::vector<std::string> previous_run_markers(const std::string& dir) {
  std::vector<std::string> found;
  for (const char* name : {"checkpoint.safetensors", "metrics.csv"})
    if (fs::exists(fs::path(dir) / name)) found.push_back(name);
  return found;
}

std::string move_run_aside(const std::string& dir) {
  const fs::path from = folder_path(dir);
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  fs::path to = from.string() + ".old-" + stamp;
  for (int n = 2; fs::exists(to); ++n) to = from.string() + ".old-" + stamp + "-" + std::to_string(n);
  fs::create_directories(to);
  for (const auto& entry : fs::directory_iterator(from)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && is_run_file(name)) fs::rename(entry.path(), to / name);
  }
  return to.string();
}

std::string clear_for_fresh_run(const std::string& dir, bool force) {
  const std::vector<std::string> markers = previous_run_markers(dir);
  if (markers.empty()) return "";
  if (!force) {
    std::string what;
    for (const std::string& m : markers) what += (what.empty() ? "" : ", ") + m;
    throw RunFolderConflict("'" + dir + "' already holds a run (" + what +
                            "): continue it with --resume, or start over with --force (moves the old run to " +
                            folder_path(dir).string() + ".old-<time>/)");
  }
  return move_run_aside(dir);
}

}  // namespace fz::cli
