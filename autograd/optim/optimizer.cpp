// autograd/optim/optimizer.cpp — (to be written)
#include "autograd/optim/optimizer.hpp"
