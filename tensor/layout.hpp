// tensor/layout.hpp — layout ops
#pragma once

namespace fz {}  // namespace fz
