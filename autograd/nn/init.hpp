// autograd/nn/init.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
