// autograd/optim/sgd.cpp — (to be written)
#include "autograd/optim/sgd.hpp"
