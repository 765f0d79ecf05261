// autograd/nn/conv2d.cpp — (to be written)
#include "autograd/nn/conv2d.hpp"
