// tensor/linalg.hpp — small dense linear algebra
#pragma once

namespace fz {}  // namespace fz
