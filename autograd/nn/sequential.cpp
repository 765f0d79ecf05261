// autograd/nn/sequential.cpp — (to be written)
#include "autograd/nn/sequential.hpp"
