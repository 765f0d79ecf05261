// autograd/optim/clip.hpp — (to be written)
#pragma once

namespace fz {}  // namespace fz
