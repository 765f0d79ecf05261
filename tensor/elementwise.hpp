// tensor/elementwise.hpp — elementwise kernels
#pragma once

namespace fz {}  // namespace fz
