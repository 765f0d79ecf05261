// autograd/nn/module.cpp — (to be written)
#include "autograd/nn/module.hpp"
