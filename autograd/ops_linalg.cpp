// autograd/ops_linalg.cpp — (to be written)
#include "autograd/ops_linalg.hpp"
