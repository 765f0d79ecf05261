// autograd/ops_elementwise.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
