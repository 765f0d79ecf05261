// autograd/optim/ema.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
