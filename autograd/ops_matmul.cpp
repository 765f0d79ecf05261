// autograd/ops_matmul.cpp — matmul and linear as differentiable ops (forward and backward
// side by side, all products through fz::gemm / fz::matmul).
#include "autograd/ops_matmul.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "tensor/gemm.hpp"
#include "tensor/matmul.hpp"

namespace fz {

namespace {

// Adds the column sums of g (rows x cols) into out (cols): the bias gradient of linear.
template <typename T>
void add_column_sums(const T* g, std::size_t rows, std::size_t cols, T* out) {
  for (std::size_t i = 0; i < rows; ++i) {
    const T* r = g + i * cols;
    for (std::size_t j = 0; j < cols; ++j) out[j] += r[j];
  }
}

}  // namespace

// y = a @ b;  dL/da = G @ b^T,  dL/db = a^T @ G  (summed over the batches an operand was
// broadcast to).
template <typename T>
Var<T> matmul(const Var<T>& a, const Var<T>& b) {
  Tensor<T> y = matmul(a.value(), b.value());
  return record_op("matmul", y, {a, b}, [a, b](const Tensor<T>& g) {
    const Tensor<T>& av = a.value();
    const Tensor<T>& bv = b.value();
    const std::size_t M = g.size(-2), N = g.size(-1), K = av.size(-1);
    const std::size_t batch = g.dim() == 3 ? g.shape()[0] : 1;
    const bool a_broadcast = batch > 1 && (av.dim() == 2 || av.shape()[0] == 1);
    const bool b_broadcast = batch > 1 && (bv.dim() == 2 || bv.shape()[0] == 1);
    if (a.requires_grad()) {
      if (!a_broadcast) {
        a.accumulate_grad(matmul(g, bv, false, true).reshape(av.shape()));
      } else {
        // sum_p G_p B_p^T, accumulated product by product.
        Tensor<T> da(av.shape());
        const std::size_t sb = b_broadcast ? 0 : K * N;
        for (std::size_t p = 0; p < batch; ++p)
          gemm<T>(false, true, M, K, N, T(1), g.data() + p * M * N, N, bv.data() + p * sb, N,
                  T(1), da.data(), K);
        a.accumulate_grad(std::move(da));
      }
    }
    if (b.requires_grad()) {
      if (!b_broadcast) {
        b.accumulate_grad(matmul(av, g, true, false).reshape(bv.shape()));
      } else if (!a_broadcast) {
        // sum_p A_p^T G_p is one product with the batch folded into the inner dimension.
        b.accumulate_grad(
            matmul(av.reshape({batch * M, K}), g.reshape({batch * M, N}), true, false)
                .reshape(bv.shape()));
      } else {
        // Both broadcast: A^T (sum_p G_p).
        Tensor<T> gs({M, N});
        for (std::size_t p = 0; p < batch; ++p)
          for (std::size_t i = 0; i < M * N; ++i) gs[i] += g[p * M * N + i];
        b.accumulate_grad(matmul(av.reshape({M, K}), gs, true, false).reshape(bv.shape()));
      }
    }
  });
}

// y = x W^T + b;  dL/dx = G W,  dL/dW = G^T x,  dL/db = sum over rows of G.
template <typename T>
Var<T> linear(const Var<T>& x, const Var<T>& weight, const Var<T>& bias) {
  const Tensor<T>& xv = x.value();
  const Tensor<T>& wv = weight.value();
  if (wv.dim() != 2 || xv.dim() == 0 || xv.shape().back() != wv.shape()[1])
    throw std::invalid_argument("linear: input " + shape_str(xv.shape()) +
                                " does not fit weight " + shape_str(wv.shape()) +
                                " (expected input (..., in) and weight (out, in))");
  const std::size_t in = wv.shape()[1], out = wv.shape()[0];
  const std::size_t rows = xv.numel() / in;
  if (bias.defined() && bias.value().shape() != Shape{out})
    throw std::invalid_argument("linear: bias must have shape (" + std::to_string(out) +
                                "), got " + shape_str(bias.value().shape()));
  Shape yshape = xv.shape();
  yshape.back() = out;
  Tensor<T> y = Tensor<T>::empty(yshape);
  T beta = T(0);
  if (bias.defined()) {  // start every row at the bias and add the product onto it
    const T* bv = bias.value().data();
    for (std::size_t r = 0; r < rows; ++r) std::copy(bv, bv + out, y.data() + r * out);
    beta = T(1);
  }
  gemm<T>(false, true, rows, out, in, T(1), xv.data(), in, wv.data(), in, beta, y.data(), out);
  return record_op("linear", y, {x, weight, bias}, [x, weight, bias, rows, in, out](const Tensor<T>& g) {
    if (x.requires_grad()) {
      Tensor<T> dx = Tensor<T>::empty(x.value().shape());
      gemm<T>(false, false, rows, in, out, T(1), g.data(), out, weight.value().data(), in, T(0),
              dx.data(), in);
      x.accumulate_grad(std::move(dx));
    }
    if (weight.requires_grad()) {
      Tensor<T> dw = Tensor<T>::empty({out, in});
      gemm<T>(true, false, out, in, rows, T(1), g.data(), out, x.value().data(), in, T(0),
              dw.data(), in);
      weight.accumulate_grad(std::move(dw));
    }
    if (bias.requires_grad()) {
      Tensor<T> db({out});
      add_column_sums(g.data(), rows, out, db.data());
      bias.accumulate_grad(std::move(db));
    }
  });
}

template Var<float> matmul(const Var<float>&, const Var<float>&);
template Var<double> matmul(const Var<double>&, const Var<double>&);
template Var<float> linear(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<double> linear(const Var<double>&, const Var<double>&, const Var<double>&);

}  // namespace fz
