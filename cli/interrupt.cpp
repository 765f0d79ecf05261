// cli/interrupt.cpp — a signal-safe flag set by SIGINT.
#include "cli/interrupt.hpp"

#include <csignal>
#include <unistd.h>

namespace fz::cli {

namespace {
volatile std::sig_atomic_t g_interrupts = 0;

extern "C" void on_sigint(int) {
  g_interrupts = g_interrupts + 1;
  if (g_interrupts >= 2) _exit(130);
  const char msg[] = "\ninterrupt: finishing the current step and writing a checkpoint (Ctrl-C again to quit now)\n";
  (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
}
}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupt_requested() { return g_interrupts > 0; }
void reset_interrupt() { g_interrupts = 0; }

}  // namespace fz::cli
