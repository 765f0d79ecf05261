// tensor/gemm.cpp — GEMM
#include "tensor/gemm.hpp"
