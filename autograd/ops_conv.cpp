// autograd/ops_conv.cpp — (to be written)
#include "autograd/ops_conv.hpp"
