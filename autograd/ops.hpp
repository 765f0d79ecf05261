// autograd/ops.hpp — every differentiable op in one include.
#pragma once

#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_index.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_linalg.hpp"
#include "autograd/ops_matmul.hpp"
#include "autograd/ops_rational_quadratic_spline.hpp"
#include "autograd/ops_reduce.hpp"
#include "autograd/ops_scan.hpp"
#include "autograd/ops_softmax.hpp"
#include "autograd/var.hpp"
