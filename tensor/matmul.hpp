// tensor/matmul.hpp — batched matmul
#pragma once

namespace fz {}  // namespace fz
