// autograd/ops_linalg.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
