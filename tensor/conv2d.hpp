// tensor/conv2d.hpp — conv2d
#pragma once

namespace fz {}  // namespace fz
