// autograd/ops_elementwise.cpp — (to be written)
#include "autograd/ops_elementwise.hpp"
