// autograd/ops_reduce.cpp — (to be written)
#include "autograd/ops_reduce.hpp"
