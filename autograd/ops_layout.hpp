// autograd/ops_layout.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
