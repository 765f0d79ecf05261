// tensor/elementwise.cpp — elementwise kernels
#include "tensor/elementwise.hpp"
