// autograd/nn/conv2d.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
