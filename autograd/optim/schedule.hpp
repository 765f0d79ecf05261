// autograd/optim/schedule.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
