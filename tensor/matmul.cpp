// tensor/matmul.cpp — batched matmul
#include "tensor/matmul.hpp"
