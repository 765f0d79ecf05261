// autograd/ops_matmul.cpp — matmul and linear as differentiable ops (forward and backward
// side by side, all products through fz::gemm / fz::matmul), and the plain forms of linear and
// linear_relu from matmul, transpose, add and relu.
#include "autograd/ops_matmul.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <xsimd/xsimd.hpp>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/gemm.hpp"
#include "tensor/matmul.hpp"
#include "tensor/reference_mode.hpp"
#include "tensor/scratch.hpp"

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

// Tag of linear_relu's per-thread buffer for the masked output gradient.
struct LinearReluMask {};

// y(r, :) = max(0, y(r, :) + bias) (bias may be null), vectorised.
template <typename T>
void bias_relu_in_place(T* y, std::size_t rows, std::size_t cols, const T* bias) {
  using V = xsimd::batch<T>;
  constexpr std::size_t W = V::size;
  const V zero(T(0));
  for (std::size_t r = 0; r < rows; ++r) {
    T* row = y + r * cols;
    std::size_t j = 0;
    for (; j + W <= cols; j += W) {
      V v = V::load_unaligned(row + j);
      if (bias) v += V::load_unaligned(bias + j);
      xsimd::max(v, zero).store_unaligned(row + j);
    }
    for (; j < cols; ++j) {
      const T v = bias ? row[j] + bias[j] : row[j];
      row[j] = v > T(0) ? v : T(0);
    }
  }
}

// out = g where y > 0, else 0 (ReLU's backward; y > 0 exactly where the input was > 0), over
// rows x cols; adds out's column sums into col_sums unless it is null.
template <typename T>
void relu_mask(const T* g, const T* y, T* out, std::size_t rows, std::size_t cols,
               T* col_sums) {
  using V = xsimd::batch<T>;
  constexpr std::size_t W = V::size;
  const V zero(T(0));
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t o = r * cols;
    std::size_t j = 0;
    for (; j + W <= cols; j += W) {
      const V m = xsimd::select(V::load_unaligned(y + o + j) > zero, V::load_unaligned(g + o + j), zero);
      m.store_unaligned(out + o + j);
      if (col_sums) (V::load_unaligned(col_sums + j) + m).store_unaligned(col_sums + j);
    }
    for (; j < cols; ++j) {
      out[o + j] = y[o + j] > T(0) ? g[o + j] : T(0);
      if (col_sums) col_sums[j] += out[o + j];
    }
  }
}

}  // namespace

// y = a @ b;  dL/da = G @ b^T,  dL/db = a^T @ G  (summed over the batches an operand was
// broadcast to).
template <typename T>
Var<T> matmul(const Var<T>& a, const Var<T>& b) {
  Tensor<T> y = matmul(a.value(), b.value());
  return record_op("matmul", y, {a, b}, [a, b](const auto& g) {
    if constexpr (!is_first_order<decltype(g)>) {
      // Differentiable: the same products as Var ops; sum_to folds broadcast batches.
      if (a.requires_grad()) a.accumulate_grad(sum_to(matmul(g, transpose(b, -2, -1)), a.shape()));
      if (b.requires_grad()) b.accumulate_grad(sum_to(matmul(transpose(a, -2, -1), g), b.shape()));
    } else {
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
    }
  });
}

namespace {

// Throws std::invalid_argument naming `op` unless x is (..., in), weight (out, in) and bias
// (out) or undefined.
template <typename T>
void check_linear_shapes(const char* op, const Var<T>& x, const Var<T>& weight,
                         const Var<T>& bias) {
  const Shape& xs = x.shape();
  const Shape& ws = weight.shape();
  if (ws.size() != 2 || xs.empty() || xs.back() != ws[1])
    throw std::invalid_argument(std::string(op) + ": input " + shape_str(xs) +
                                " does not fit weight " + shape_str(ws) +
                                " (expected input (..., in) and weight (out, in))");
  if (bias.defined() && bias.shape() != Shape{ws[0]})
    throw std::invalid_argument(std::string(op) + ": bias must have shape (" +
                                std::to_string(ws[0]) + "), got " + shape_str(bias.shape()));
}

// y = x W^T + b (then max(0, y) when `relu`);  with G' = G (masked by y > 0 when `relu`):
// dL/dx = G' W,  dL/dW = G'^T x,  dL/db = sum over rows of G'.
template <typename T>
Var<T> linear_impl(const char* op, bool relu, const Var<T>& x, const Var<T>& weight,
                   const Var<T>& bias) {
  const Tensor<T>& xv = x.value();
  const Tensor<T>& wv = weight.value();
  check_linear_shapes(op, x, weight, bias);
  const std::size_t in = wv.shape()[1], out = wv.shape()[0];
  const std::size_t rows = xv.numel() / in;
  Shape yshape = xv.shape();
  yshape.back() = out;
  Tensor<T> y = Tensor<T>::empty(yshape);
  const T* bv = bias.defined() ? bias.value().data() : nullptr;
  if (relu) {  // the product, then bias and ReLU in one pass
    gemm<T>(false, true, rows, out, in, T(1), xv.data(), in, wv.data(), in, T(0), y.data(), out);
    bias_relu_in_place(y.data(), rows, out, bv);
  } else {
    T beta = T(0);
    if (bv) {  // start every row at the bias and add the product onto it
      for (std::size_t r = 0; r < rows; ++r) std::copy(bv, bv + out, y.data() + r * out);
      beta = T(1);
    }
    gemm<T>(false, true, rows, out, in, T(1), xv.data(), in, wv.data(), in, beta, y.data(), out);
  }
  // The closure keeps y only for the mask (it shares the output's buffer: no copy).
  Tensor<T> mask_src = relu ? y : Tensor<T>();
  return record_op(op, y, {x, weight, bias},
                   [x, weight, bias, rows, in, out, mask_src](const auto& g_out) {
    if constexpr (!is_first_order<decltype(g_out)>) {
      // Differentiable: the same three products as Var ops on (rows, .) matrices; the ReLU's
      // mask [y > 0] is a constant (its second derivative is 0).
      Var<T> g = reshape(g_out, Shape{rows, out});
      if (mask_src.defined())
        g = mul(g, Var<T>(relu_backward(Tensor<T>(mask_src.shape(), T(1)), mask_src).reshape({rows, out})));
      if (x.requires_grad()) x.accumulate_grad(reshape(matmul(g, weight), x.shape()));
      if (weight.requires_grad())
        weight.accumulate_grad(matmul(transpose(g, 0, 1), reshape(x, Shape{rows, in})));
      if (bias.requires_grad()) bias.accumulate_grad(sum(g, 0));
    } else {
      const T* g = g_out.data();
      Tensor<T> db;
      if (bias.requires_grad()) db = Tensor<T>({out});
      if (mask_src.defined()) {
        // G' = G * [y > 0], in a per-thread buffer reused across calls; the bias gradient is
        // summed in the same pass.
        T* gm = detail::thread_scratch<LinearReluMask, T>(0, rows * out);
        relu_mask(g, mask_src.data(), gm, rows, out, db.defined() ? db.data() : nullptr);
        g = gm;
      } else if (db.defined()) {
        add_column_sums(g, rows, out, db.data());
      }
      if (x.requires_grad()) {
        Tensor<T> dx = Tensor<T>::empty(x.value().shape());
        gemm<T>(false, false, rows, in, out, T(1), g, out, weight.value().data(), in, T(0),
                dx.data(), in);
        x.accumulate_grad(std::move(dx));
      }
      if (weight.requires_grad()) {
        Tensor<T> dw = Tensor<T>::empty({out, in});
        gemm<T>(true, false, out, in, rows, T(1), g, out, x.value().data(), in, T(0), dw.data(),
                in);
        weight.accumulate_grad(std::move(dw));
      }
      if (db.defined()) bias.accumulate_grad(std::move(db));
    }
  });
}

}  // namespace

template <typename T>
Var<T> linear(const Var<T>& x, const Var<T>& weight, const Var<T>& bias) {
  if (reference_ops()) return linear_reference(x, weight, bias);
  return linear_impl("linear", false, x, weight, bias);
}

template <typename T>
Var<T> linear_relu(const Var<T>& x, const Var<T>& weight, const Var<T>& bias) {
  if (reference_ops()) return linear_relu_reference(x, weight, bias);
  return linear_impl("linear_relu", true, x, weight, bias);
}

// ---- the plain forms -------------------------------------------------------------------------

template <typename T>
Var<T> linear_reference(const Var<T>& x, const Var<T>& weight, const Var<T>& bias) {
  check_linear_shapes("linear", x, weight, bias);
  const std::size_t in = weight.shape()[1], out = weight.shape()[0];
  Shape y_shape = x.shape();
  y_shape.back() = out;
  // (..., in) as rows of a matrix, times W^T, plus b broadcast over the rows.
  Var<T> y = matmul(reshape(x, Shape{x.numel() / in, in}), transpose(weight, 0, 1));
  if (bias.defined()) y = y + bias;
  return reshape(y, y_shape);
}

template <typename T>
Var<T> linear_relu_reference(const Var<T>& x, const Var<T>& weight, const Var<T>& bias) {
  check_linear_shapes("linear_relu", x, weight, bias);
  return relu(linear_reference(x, weight, bias));
}

template Var<float> matmul(const Var<float>&, const Var<float>&);
template Var<double> matmul(const Var<double>&, const Var<double>&);
template Var<float> linear(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<double> linear(const Var<double>&, const Var<double>&, const Var<double>&);
template Var<float> linear_relu(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<double> linear_relu(const Var<double>&, const Var<double>&, const Var<double>&);
template Var<float> linear_reference(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<double> linear_reference(const Var<double>&, const Var<double>&, const Var<double>&);
template Var<float> linear_relu_reference(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<double> linear_relu_reference(const Var<double>&, const Var<double>&,
                                           const Var<double>&);

}  // namespace fz
