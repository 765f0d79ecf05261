// tests/cli/cli_process.hpp — running build/flowzoo as a child process the test can signal:
// stdout through a pipe (so a test waits for a readiness line instead of sleeping a fixed
// time), stderr into a file, the exit status and wall time at the end.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_helpers.hpp"

namespace fz::test {

struct FlowzooChild {
  pid_t pid = -1;
  int out_fd = -1;
  std::string out;       // stdout read so far
  std::string err_file;  // where stderr goes
};

// Starts `FLOWZOO_BIN args...`. With `blocked_signals`, the child starts with SIGINT and
// SIGTERM blocked (so a signal sent at once is pending until flowzoo installs its handler).
inline FlowzooChild spawn_flowzoo(const std::vector<std::string>& args, const std::string& err_file,
                                  bool blocked_signals = false) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  sigset_t both, old;
  sigemptyset(&both);
  sigaddset(&both, SIGINT);
  sigaddset(&both, SIGTERM);
  if (blocked_signals) ::sigprocmask(SIG_BLOCK, &both, &old);  // inherited by the child
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    const int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, STDERR_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(FLOWZOO_BIN));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(FLOWZOO_BIN, argv.data());
    ::_exit(127);
  }
  if (blocked_signals) ::sigprocmask(SIG_SETMASK, &old, nullptr);
  ::close(fds[1]);
  if (pid < 0) throw std::runtime_error("fork failed");
  return {pid, fds[0], "", err_file};
}

// Reads the child's stdout until it contains `text` (true) or it closes / `timeout_s` passes.
inline bool wait_for_output(FlowzooChild& c, const std::string& text, double timeout_s = 60) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (c.out.find(text) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{c.out_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(c.out_fd, buf, sizeof buf);
    if (n <= 0) return c.out.find(text) != std::string::npos;
    c.out.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

struct ChildResult {
  int exit_code = -1;  // -1 when killed by a signal instead of exiting
  int term_signal = 0;
  std::string out, err;
};

// Drains stdout to the end, reaps the child, and reads its stderr file.
inline ChildResult finish_flowzoo(FlowzooChild& c) {
  char buf[4096];
  ssize_t n;
  while ((n = ::read(c.out_fd, buf, sizeof buf)) > 0) c.out.append(buf, static_cast<std::size_t>(n));
  ::close(c.out_fd);
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  ChildResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
  r.out = c.out;
  r.err = slurp(c.err_file);
  std::filesystem::remove(c.err_file);
  return r;
}

// Data rows of a metrics.csv (0 when missing).
inline std::size_t metric_rows(const std::string& path) {
  std::ifstream m(path);
  std::string line;
  std::size_t rows = 0;
  if (!std::getline(m, line)) return 0;
  while (std::getline(m, line)) rows += !line.empty();
  return rows;
}

}  // namespace fz::test
