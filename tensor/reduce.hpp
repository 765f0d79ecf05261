// tensor/reduce.hpp — reductions
#pragma once

namespace fz {}  // namespace fz
