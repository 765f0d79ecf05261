// autograd/nn/activations.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
