// cli/interrupt.hpp — Ctrl-C (SIGINT) and SIGTERM (what schedulers and `kill` send) for long
// runs: the first signal only raises a flag that training checks between steps, between
// evaluation batches and between its phases (so it can finish the step and keep a checkpoint);
// a second signal exits at once. Installed first thing in `train`, before any slow work, and
// unblocks both signals in case the parent started us with them blocked.
#pragma once

namespace fz::cli {

void install_interrupt_handler();
bool interrupt_requested();
// The first signal received (SIGINT or SIGTERM), 0 when none.
int interrupt_signal();
// The exit code for the first signal: 128 + its number (130 for SIGINT, 143 for SIGTERM).
int interrupt_exit_code();
// "Ctrl-C" or "SIGTERM", for messages.
const char* interrupt_name();
void reset_interrupt();  // for tests

}  // namespace fz::cli
