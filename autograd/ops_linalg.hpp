// autograd/ops_linalg.hpp — differentiable small-matrix ops for invertible 1x1 convolutions:
// log|det W|, the inverse W^-1, and Glow's LU-parameterised weight W = P L U.
//
// All take and return (n, n) matrices (logabsdet returns a 0-d scalar). They run on the plain
// loops of tensor/linalg.hpp: 1x1-conv weights are at most a few hundred channels wide.
#pragma once

#include "var.hpp"
#include "../tensor/tensor.hpp"

namespace fz {

// log|det W| as a 0-d scalar. d/dW log|det W| = W^-T. Throws if W is singular.
template <typename T>
Var<T> logabsdet(const Var<T>& W);

// W^-1. d(W^-1) = -W^-1 dW W^-1, so dL/dW = -W^-T G W^-T. Throws if W is singular.
template <typename T>
Var<T> inverse(const Var<T>& W);

// Glow's LU-decomposed 1x1 convolution weight (Kingma & Dhariwal 2018, section 3.2):
//   W = P (tril(L_param, -1) + I) (triu(U_param, 1) + diag(sign_s * exp(log_s)))
// P (n, n) permutation and sign_s (n) of +-1 are constants; L_param, U_param (n, n) and
// log_s (n) are differentiable (only their strict lower / strict upper parts matter, and those
// parts alone receive gradient). Then log|det W| = sum(log_s) exactly — no decomposition needed.
// Note: lu_decompose gives P A = L U, so its `Pt` (not `P`) is the P to pass here.
template <typename T>
Var<T> lu_compose(const Tensor<T>& P, const Var<T>& L_param, const Var<T>& U_param,
                  const Tensor<T>& sign_s, const Var<T>& log_s);

// lu_compose as plain ops: L_param * strict-lower mask + I, U_param * strict-upper mask +
// diag(sign_s * exp(log_s)), and two matmuls (what reference_ops() runs; equal to rounding).
template <typename T>
Var<T> lu_compose_reference(const Tensor<T>& P, const Var<T>& L_param, const Var<T>& U_param,
                            const Tensor<T>& sign_s, const Var<T>& log_s);

}  // namespace fz
