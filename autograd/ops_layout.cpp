// autograd/ops_layout.cpp — (to be written)
#include "autograd/ops_layout.hpp"
