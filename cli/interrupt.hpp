// cli/interrupt.hpp — Ctrl-C handling for long runs: the first SIGINT only raises a flag that
// the training loop checks between steps (so it can finish the step and write a checkpoint);
// a second SIGINT exits at once.
#pragma once

namespace fz::cli {

void install_interrupt_handler();
bool interrupt_requested();
void reset_interrupt();  // for tests

}  // namespace fz::cli
