// autograd/ops_reduce.cpp — forward and backward of the differentiable reductions.
// The all-elements forms reduce over every axis, so one implementation serves both. Closures
// written as [..](const auto& g) also have a differentiable branch (Var ops), see var.hpp.
#include "autograd/ops_reduce.hpp"

#include <cmath>
#include <utility>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "tensor/broadcast.hpp"

namespace fz {

namespace {

std::vector<int> every_axis(std::size_t ndim) {
  std::vector<int> axes(ndim);
  for (std::size_t i = 0; i < ndim; ++i) axes[i] = static_cast<int>(i);
  return axes;
}

// Forward of sum (scale 1) and mean (scale 1/count).
template <typename T>
Var<T> sum_or_mean(const Var<T>& x, const std::vector<int>& axes, bool keepdim, bool is_mean) {
  Tensor<T> y = is_mean ? mean(x.value(), axes, keepdim) : sum(x.value(), axes, keepdim);
  const T scale = is_mean && y.numel() > 0 && x.numel() > 0
                      ? T(1) / static_cast<T>(x.numel() / y.numel())
                      : T(1);
  // d sum / dx_i = 1 (d mean / dx_i = 1/count): broadcast g back over the reduced axes.
  return record_op(is_mean ? "mean" : "sum", std::move(y), {x},
                   [x, axes, scale](const auto& g) {
                     if (!x.requires_grad()) return;
                     if constexpr (is_first_order<decltype(g)>) {
                       x.accumulate_grad(expand_reduced(g, x.shape(), axes, scale));
                     } else {  // g with the reduced axes kept as 1s, repeated over them
                       Var<T> dx = broadcast_to(reshape(g, reduced_shape(x.shape(), axes, true)), x.shape());
                       x.accumulate_grad(scale == T(1) ? dx : mul_scalar(dx, scale));
                     }
                   });
}

}  // namespace

template <typename T>
Var<T> sum(const Var<T>& x) {
  return sum_or_mean(x, every_axis(x.dim()), false, false);
}
template <typename T>
Var<T> sum(const Var<T>& x, const std::vector<int>& axes, bool keepdim) {
  return sum_or_mean(x, axes, keepdim, false);
}
template <typename T>
Var<T> sum(const Var<T>& x, int axis, bool keepdim) {
  return sum_or_mean(x, std::vector<int>{axis}, keepdim, false);
}

template <typename T>
Var<T> mean(const Var<T>& x) {
  return sum_or_mean(x, every_axis(x.dim()), false, true);
}
template <typename T>
Var<T> mean(const Var<T>& x, const std::vector<int>& axes, bool keepdim) {
  return sum_or_mean(x, axes, keepdim, true);
}
template <typename T>
Var<T> mean(const Var<T>& x, int axis, bool keepdim) {
  return sum_or_mean(x, std::vector<int>{axis}, keepdim, true);
}

template <typename T>
Var<T> max(const Var<T>& x, const std::vector<int>& axes, bool keepdim) {
  std::vector<std::size_t> index;
  Tensor<T> y = max_with_index(x.value(), axes, keepdim, index);
  // d max / dx_i = 1 for the first maximal x_i of each reduced group, 0 elsewhere.
  return record_op("max", std::move(y), {x}, [x, index = std::move(index)](const Tensor<T>& g) {
    if (!x.requires_grad()) return;
    Tensor<T> dx(x.shape());
    for (std::size_t o = 0; o < index.size(); ++o) dx[index[o]] += g[o];
    x.accumulate_grad(std::move(dx));
  });
}
template <typename T>
Var<T> max(const Var<T>& x) {
  return max(x, every_axis(x.dim()), false);
}
template <typename T>
Var<T> max(const Var<T>& x, int axis, bool keepdim) {
  return max(x, std::vector<int>{axis}, keepdim);
}

template <typename T>
Var<T> logsumexp(const Var<T>& x, const std::vector<int>& axes, bool keepdim) {
  Tensor<T> y = logsumexp(x.value(), axes, keepdim);
  // d lse / dx_i = exp(x_i - lse) (the softmax over the reduced group).
  return record_op("logsumexp", y, {x}, [x, y, axes](const auto& g) {
    if (!x.requires_grad()) return;
    if constexpr (is_first_order<decltype(g)>) {
      Tensor<T> dx = expand_reduced(g, x.shape(), axes);
      const Tensor<T> lse = expand_reduced(y, x.shape(), axes);
      const T* xv = x.value().data();
      for (std::size_t i = 0; i < dx.numel(); ++i) {
        // An all -inf group has lse = -inf: its softmax is taken as 0 rather than NaN.
        const T e = std::isinf(lse[i]) && lse[i] < 0 ? T(0) : std::exp(xv[i] - lse[i]);
        dx[i] *= e;
      }
      x.accumulate_grad(std::move(dx));
    } else {  // the same product in Var ops, the softmax from the output lse (finite groups)
      const Shape kept = reduced_shape(x.shape(), axes, true);
      const Var<T> softmax = exp(sub(x, broadcast_to(reshape(g.output(), kept), x.shape())));
      x.accumulate_grad(mul(broadcast_to(reshape(g, kept), x.shape()), softmax));
    }
  });
}

template <typename T>
Var<T> logsumexp(const Var<T>& x) {
  return logsumexp(x, every_axis(x.dim()), false);
}
template <typename T>
Var<T> logsumexp(const Var<T>& x, int axis, bool keepdim) {
  return logsumexp(x, std::vector<int>{axis}, keepdim);
}

template <typename T>
Var<T> sum_to(const Var<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  // Each input element was summed into one output element: g repeated back over x's shape.
  return record_op("sum_to", sum_to(x.value(), shape), {x}, [x](const auto& g) {
    if (x.requires_grad()) x.accumulate_grad(broadcast_to(g, x.shape()));
  });
}

template <typename T>
Var<T> broadcast_to(const Var<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  // Each input element was used once per repetition: g summed back to x's shape.
  return record_op("broadcast_to", broadcast_to(x.value(), shape), {x}, [x](const auto& g) {
    if (x.requires_grad()) x.accumulate_grad(sum_to(g, x.shape()));
  });
}

#define FZ_INSTANTIATE_OPS_REDUCE(T)                                             \
  template Var<T> sum(const Var<T>&);                                            \
  template Var<T> sum(const Var<T>&, const std::vector<int>&, bool);             \
  template Var<T> sum(const Var<T>&, int, bool);                                 \
  template Var<T> mean(const Var<T>&);                                           \
  template Var<T> mean(const Var<T>&, const std::vector<int>&, bool);            \
  template Var<T> mean(const Var<T>&, int, bool);                                \
  template Var<T> max(const Var<T>&);                                            \
  template Var<T> max(const Var<T>&, const std::vector<int>&, bool);             \
  template Var<T> max(const Var<T>&, int, bool);                                 \
  template Var<T> logsumexp(const Var<T>&);                                      \
  template Var<T> logsumexp(const Var<T>&, const std::vector<int>&, bool);       \
  template Var<T> logsumexp(const Var<T>&, int, bool);                           \
  template Var<T> sum_to(const Var<T>&, const Shape&);                           \
  template Var<T> broadcast_to(const Var<T>&, const Shape&);

FZ_INSTANTIATE_OPS_REDUCE(float)
FZ_INSTANTIATE_OPS_REDUCE(double)

#undef FZ_INSTANTIATE_OPS_REDUCE

}  // namespace fz
