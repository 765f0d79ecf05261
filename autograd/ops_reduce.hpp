// autograd/ops_reduce.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
