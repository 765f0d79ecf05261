// autograd/nn/linear.cpp — (to be written)
#include "autograd/nn/linear.hpp"
