// autograd/ops_matmul.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
