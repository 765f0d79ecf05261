// autograd/optim/optimizer.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
