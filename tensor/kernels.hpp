// tensor/kernels.hpp — every tensor kernel in one include.
#pragma once

#include "tensor/broadcast.hpp"
#include "tensor/conv2d.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/gemm.hpp"
#include "tensor/layout.hpp"
#include "tensor/linalg.hpp"
#include "tensor/matmul.hpp"
#include "tensor/parallel.hpp"
#include "tensor/random.hpp"
#include "tensor/reduce.hpp"
#include "tensor/tensor.hpp"
