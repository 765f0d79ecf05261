// autograd/nn/sequential.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
