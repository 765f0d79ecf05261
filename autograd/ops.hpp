// autograd/ops.hpp — every differentiable op in one include (and grad/hvp/jvp, grad.hpp).
#pragma once

#include "grad.hpp"
#include "ops_conv.hpp"
#include "ops_elementwise.hpp"
#include "ops_index.hpp"
#include "ops_layout.hpp"
#include "ops_linalg.hpp"
#include "ops_matmul.hpp"
#include "ops_rational_quadratic_spline.hpp"
#include "ops_reduce.hpp"
#include "ops_scan.hpp"
#include "ops_softmax.hpp"
#include "var.hpp"
