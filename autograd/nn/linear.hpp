// autograd/nn/linear.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
