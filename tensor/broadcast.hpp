// tensor/broadcast.hpp — NumPy broadcasting and sum_to
#pragma once

namespace fz {}  // namespace fz
