// cli/interrupt.cpp — signal-safe flags set by SIGINT and SIGTERM.
#include "cli/interrupt.hpp"

#include <csignal>
#include <unistd.h>

namespace fz::cli {

namespace {
volatile std::sig_atomic_t g_interrupts = 0;
volatile std::sig_atomic_t g_first_signal = 0;

extern "C" void on_stop_signal(int sig) {
  g_interrupts = g_interrupts + 1;
  if (g_interrupts >= 2) _exit(128 + sig);
  g_first_signal = sig;
  // Only async-signal-safe calls here: write(2) of a fixed message.
  if (sig == SIGTERM) {
    const char msg[] = "\nSIGTERM: finishing the current step and keeping a checkpoint (a second signal quits now)\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
  } else {
    const char msg[] = "\ninterrupt: finishing the current step and writing a checkpoint (Ctrl-C again to quit now)\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
  }
}
}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A signal that arrived while blocked (inherited mask) is delivered now, to the handler.
  sigset_t both;
  sigemptyset(&both);
  sigaddset(&both, SIGINT);
  sigaddset(&both, SIGTERM);
  sigprocmask(SIG_UNBLOCK, &both, nullptr);
}

bool interrupt_requested() { return g_interrupts > 0; }
int interrupt_signal() { return g_first_signal; }
int interrupt_exit_code() { return 128 + (g_first_signal ? g_first_signal : SIGINT); }
const char* interrupt_name() { return g_first_signal == SIGTERM ? "SIGTERM" : "Ctrl-C"; }
void reset_interrupt() {
  g_interrupts = 0;
  g_first_signal = 0;
}

}  // namespace fz::cli
