// autograd/optim/sgd.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
