// autograd/nn/module.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
