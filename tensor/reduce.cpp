// tensor/reduce.cpp — reductions
#include "tensor/reduce.hpp"
