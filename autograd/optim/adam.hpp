// autograd/optim/adam.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
