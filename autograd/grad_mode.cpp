// autograd/grad_mode.cpp — storage for the thread-local recording flag.
#include "autograd/grad_mode.hpp"

namespace fz {

namespace {
thread_local bool t_grad_enabled = true;
}

bool GradMode::enabled() { return t_grad_enabled; }
void GradMode::set_enabled(bool enabled) { t_grad_enabled = enabled; }

}  // namespace fz
