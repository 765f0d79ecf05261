// autograd/optim/ema.cpp — (to be written)
#include "autograd/optim/ema.hpp"
