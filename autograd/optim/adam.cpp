// autograd/optim/adam.cpp — (to be written)
#include "autograd/optim/adam.hpp"
