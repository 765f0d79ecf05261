// autograd/ops_index.cpp — searchsorted, and the forward and backward of gather and where.
#include "autograd/ops_index.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "autograd/axis_lines.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/broadcast.hpp"

namespace fz {

template <typename T>
IndexTensor searchsorted(const Tensor<T>& edges, const Tensor<T>& values) {
  const Shape& es = edges.shape();
  const Shape& vs = values.shape();
  const std::string shapes = "edges " + shape_str(es) + ", values " + shape_str(vs);
  if (es.empty() || es.back() < 2)
    throw std::invalid_argument("searchsorted: edges need a last axis of at least 2 (one bin), got " + shapes);
  if (vs.size() != es.size() || !std::equal(es.begin(), es.end() - 1, vs.begin()))
    throw std::invalid_argument("searchsorted: values must have the leading axes of edges (R..., M) for edges (R..., E), got " + shapes);
  const std::size_t n_edges = es.back();
  const std::size_t n_values = vs.back();
  const std::size_t rows = n_edges ? edges.numel() / n_edges : 0;
  IndexTensor out{vs, std::vector<std::size_t>(values.numel())};
  const T* e = edges.data();
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = e + r * n_edges;
    for (std::size_t m = 0; m < n_values; ++m) {
      const T v = values[r * n_values + m];
      // First edge > v among edges[1 .. E-2]; the bin is its position minus 1. Searching only
      // the inner edges is the clamp: below edges[1] is bin 0, at or above edges[E-2] the last.
      // A NaN compares false everywhere (upper_bound would run to the end): give it bin 0.
      const T* first_greater = std::isnan(v) ? row + 1 : std::upper_bound(row + 1, row + n_edges - 1, v);
      out.values[r * n_values + m] = static_cast<std::size_t>(first_greater - (row + 1));
    }
  }
  return out;
}

template <typename T>
Var<T> gather(const Var<T>& x, int axis, const IndexTensor& index) {
  const detail::AxisLines xl = detail::axis_lines(x.shape(), axis, "gather");
  const Shape& xs = x.shape();
  const Shape& is = index.shape;
  const std::string shapes = "x " + shape_str(xs) + ", index " + shape_str(is);
  if (index.values.size() != shape_numel(is))
    throw std::invalid_argument("gather: index holds " + std::to_string(index.values.size()) +
                                " values for its shape " + shape_str(is));
  bool ok = is.size() == xs.size();
  for (std::size_t d = 0; ok && d < xs.size(); ++d) ok = d == xl.axis || is[d] == xs[d];
  if (!ok)
    throw std::invalid_argument("gather: index must match x on every axis but " +
                                std::to_string(axis) + ", got " + shapes);
  detail::AxisLines il = xl;
  il.n = is[xl.axis];
  for (std::size_t k = 0; k < index.values.size(); ++k)
    if (index.values[k] >= xl.n)
      throw std::invalid_argument("gather: index " + std::to_string(index.values[k]) +
                                  " is out of range for axis " + std::to_string(axis) +
                                  " of size " + std::to_string(xl.n) + " (" + shapes + ")");
  Tensor<T> y = Tensor<T>::empty(is);
  const T* xv = x.value().data();
  for (std::size_t o = 0; o < il.outer; ++o)
    for (std::size_t j = 0; j < il.n; ++j)
      for (std::size_t i = 0; i < il.inner; ++i) {
        const std::size_t k = il.at(o, j, i);
        y[k] = xv[xl.at(o, index.values[k], i)];
      }
  // d out[o,j,i] / d x[o,c,i] = [index[o,j,i] = c]: dx[o,c,i] = sum of g over the j picking c.
  return record_op("gather", std::move(y), {x}, [x, xl, il, index](const Tensor<T>& g) {
    if (!x.requires_grad()) return;
    Tensor<T> dx(x.shape());
    for (std::size_t o = 0; o < il.outer; ++o)
      for (std::size_t j = 0; j < il.n; ++j)
        for (std::size_t i = 0; i < il.inner; ++i) {
          const std::size_t k = il.at(o, j, i);
          dx[xl.at(o, index.values[k], i)] += g[k];
        }
    x.accumulate_grad(std::move(dx));
  });
}

template <typename T>
Var<T> where(const Tensor<T>& condition, const Var<T>& a, const Var<T>& b) {
  for (std::size_t k = 0; k < condition.numel(); ++k)
    if (condition[k] != T(0) && condition[k] != T(1))
      throw std::invalid_argument("where: condition must hold only 0 and 1, found " +
                                  std::to_string(condition[k]) + " at flat index " + std::to_string(k) +
                                  " (shape " + shape_str(condition.shape()) + ")");
  const Shape out_shape =
      broadcast_shapes(broadcast_shapes(condition.shape(), a.shape()), b.shape());
  const Tensor<T> mask = broadcast_to(condition, out_shape);
  const Tensor<T> av = broadcast_to(a.value(), out_shape);
  const Tensor<T> bv = broadcast_to(b.value(), out_shape);
  Tensor<T> y = Tensor<T>::empty(out_shape);
  for (std::size_t k = 0; k < y.numel(); ++k) y[k] = mask[k] != T(0) ? av[k] : bv[k];
  // d out / d a = mask, d out / d b = 1 - mask (selected, not blended: an inf or NaN in the
  // unselected branch does not leak into the gradient as 0 * inf).
  return record_op("where", std::move(y), {a, b}, [a, b, mask](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) {
      if (a.requires_grad()) {
        Tensor<T> ga = Tensor<T>::empty(g.shape());
        for (std::size_t k = 0; k < g.numel(); ++k) ga[k] = mask[k] != T(0) ? g[k] : T(0);
        a.accumulate_grad(sum_to(ga, a.shape()));
      }
      if (b.requires_grad()) {
        Tensor<T> gb = Tensor<T>::empty(g.shape());
        for (std::size_t k = 0; k < g.numel(); ++k) gb[k] = mask[k] != T(0) ? T(0) : g[k];
        b.accumulate_grad(sum_to(gb, b.shape()));
      }
    } else {  // the same selection of g, by where itself
      const Var<T> zero(Tensor<T>::scalar(T(0)));
      if (a.requires_grad()) a.accumulate_grad(sum_to(where(mask, g, zero), a.shape()));
      if (b.requires_grad()) b.accumulate_grad(sum_to(where(mask, zero, g), b.shape()));
    }
  });
}

#define FZ_INSTANTIATE_OPS_INDEX(T)                                          \
  template IndexTensor searchsorted(const Tensor<T>&, const Tensor<T>&);     \
  template Var<T> gather(const Var<T>&, int, const IndexTensor&);            \
  template Var<T> where(const Tensor<T>&, const Var<T>&, const Var<T>&);

FZ_INSTANTIATE_OPS_INDEX(float)
FZ_INSTANTIATE_OPS_INDEX(double)

#undef FZ_INSTANTIATE_OPS_INDEX

}  // namespace fz
