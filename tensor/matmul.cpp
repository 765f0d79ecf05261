// tensor/matmul.cpp — Tensor-level matrix products: shape checks and batching over fz::gemm.
#include "tensor/matmul.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "tensor/gemm.hpp"
#include "tensor/parallel.hpp"

namespace fz {

namespace {

// The operand as a batch of matrices: batch count and stored (rows, cols) of each matrix.
struct MatView {
  std::size_t batch, rows, cols;
};

MatView mat_view(const Shape& s, const char* which, const Shape& a, const Shape& b) {
  if (s.size() == 2) return {1, s[0], s[1]};
  if (s.size() == 3) return {s[0], s[1], s[2]};
  throw std::invalid_argument(std::string("matmul: operand ") + which +
                              " must be 2-D or 3-D, got shapes " + shape_str(a) + " and " +
                              shape_str(b));
}

}  // namespace

template <typename T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, bool trans_a, bool trans_b) {
  const MatView va = mat_view(a.shape(), "a", a.shape(), b.shape());
  const MatView vb = mat_view(b.shape(), "b", a.shape(), b.shape());
  const std::size_t M = trans_a ? va.cols : va.rows;
  const std::size_t K = trans_a ? va.rows : va.cols;
  const std::size_t Kb = trans_b ? vb.cols : vb.rows;
  const std::size_t N = trans_b ? vb.rows : vb.cols;
  auto fail = [&](const char* why) {
    return std::invalid_argument(std::string("matmul: ") + why + ": " + shape_str(a.shape()) +
                                 (trans_a ? "^T" : "") + " @ " + shape_str(b.shape()) +
                                 (trans_b ? "^T" : ""));
  };
  if (K != Kb) throw fail("inner dimensions differ");
  if (va.batch != vb.batch && va.batch != 1 && vb.batch != 1)
    throw fail("batch sizes differ and neither is 1");
  const std::size_t batch = std::max(va.batch, vb.batch);
  const bool batched = a.dim() == 3 || b.dim() == 3;

  Tensor<T> out = batched ? Tensor<T>::empty({batch, M, N}) : Tensor<T>::empty({M, N});
  const std::size_t lda = va.cols, ldb = vb.cols;
  if (batch == 1 || (vb.batch == 1 && !trans_a)) {
    // One GEMM: a shared right operand lets the batch fold into the rows of a.
    const std::size_t rows = va.batch == 1 ? M : batch * M;
    gemm<T>(trans_a, trans_b, rows, N, K, T(1), a.data(), lda, b.data(), ldb, T(0), out.data(),
            N);
    return out;
  }
  const std::size_t sa = va.batch == 1 ? 0 : va.rows * va.cols;
  const std::size_t sb = vb.batch == 1 ? 0 : vb.rows * vb.cols;
  // Many small products run one per thread; large ones are threaded inside gemm.
  const bool per_thread = M * N * K < 128 * 128 * 128;
  const std::size_t grain = per_thread ? std::max<std::size_t>(1, 32768 / (M * N * K + 1)) : batch;
  parallel_for(batch, grain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p)
      gemm<T>(trans_a, trans_b, M, N, K, T(1), a.data() + p * sa, lda, b.data() + p * sb, ldb,
              T(0), out.data() + p * M * N, N, !per_thread);
  });
  return out;
}

template Tensor<float> matmul(const Tensor<float>&, const Tensor<float>&, bool, bool);
template Tensor<double> matmul(const Tensor<double>&, const Tensor<double>&, bool, bool);

}  // namespace fz
