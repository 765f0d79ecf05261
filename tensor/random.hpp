// tensor/random.hpp — seeded random number generation
#pragma once

namespace fz {}  // namespace fz
