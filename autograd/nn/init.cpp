// autograd/nn/init.cpp — (to be written)
#include "autograd/nn/init.hpp"
