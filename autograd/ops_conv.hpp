// autograd/ops_conv.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
