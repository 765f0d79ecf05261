// autograd/ops_matmul.cpp — (to be written)
#include "autograd/ops_matmul.hpp"
