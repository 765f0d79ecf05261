// tensor/matmul.hpp — matrix products of Tensors (2-D and batched 3-D) on top of fz::gemm.
#pragma once

#include "tensor.hpp"

namespace fz {

// Matrix product op(a) @ op(b).
//   2-D:  a (M, K), b (K, N)              -> (M, N)
//   3-D:  a (B, M, K), b (B, K, N)         -> (B, M, N)
// Batched operands broadcast over the batch axis: a batch of 1 (or a 2-D operand, treated as
// a batch of 1) is reused for every batch entry of the other operand, so (B, M, K) @ (K, N)
// -> (B, M, N). trans_a / trans_b transpose the last two axes of a / b: with trans_a, a is
// stored as (..., K, M). Throws std::invalid_argument on mismatched shapes.
template <typename T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, bool trans_a = false,
                 bool trans_b = false);

}  // namespace fz
