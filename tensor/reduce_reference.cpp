// tensor/reduce_reference.cpp — the reductions as xtensor reducers over xview(x). Each one:
// validate the axes exactly as the fast kernel does (reduced_shape), let xtensor reduce, and
// reshape to the kept-or-dropped result shape (the element order is the same either way).
#include "tensor/reduce_reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xstrided_view.hpp>

#include "tensor/xtensor_view.hpp"

namespace fz::reference {

namespace {

// Non-negative, sorted axes (what xtensor's reducers want); an out-of-range or repeated axis
// throws naming the op, as in the fast kernels.
std::vector<std::size_t> axes_of(const Shape& s, const std::vector<int>& axes, const char* op) {
  std::vector<std::size_t> out;
  for (int a : axes) {
    const long k = a < 0 ? a + static_cast<long>(s.size()) : a;
    if (k < 0 || k >= static_cast<long>(s.size()))
      throw std::out_of_range(std::string(op) + ": axis " + std::to_string(a) +
                              " is out of range for a tensor of shape " + shape_str(s));
    if (std::find(out.begin(), out.end(), static_cast<std::size_t>(k)) != out.end())
      throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(a) +
                                  " appears twice (shape " + shape_str(s) + ")");
    out.push_back(static_cast<std::size_t>(k));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int> all_axes(const Shape& s) {
  std::vector<int> axes(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) axes[i] = static_cast<int>(i);
  return axes;
}

// max and friends have no value over zero elements (unless the result is empty too).
void check_not_empty_reduction(const Shape& in, const Shape& out, const char* op) {
  if (shape_numel(in) == 0 && shape_numel(out) > 0)
    throw std::invalid_argument(std::string(op) + ": cannot reduce over zero elements (shape " +
                                shape_str(in) + ")");
}

// How many elements of each group (reduced over `ax`, kept as size-1 axes) satisfy `cond`.
template <typename C>
xt::xarray<std::size_t> count_where(const C& cond, const std::vector<std::size_t>& ax) {
  return xt::sum<std::size_t>(xt::cast<std::size_t>(cond), ax, xt::keep_dims);
}

// The max of each group (keepdim), with the fast kernel's answers at the edges xt::amax gets
// differently: NaN propagates (amax compares with >, which skips NaN), and a group of -inf has
// max -inf (amax starts from the lowest FINITE value, so it would say -FLT_MAX).
template <typename T, typename V>
xt::xarray<T> group_max(const V& v, const std::vector<std::size_t>& ax) {
  const T lowest = std::numeric_limits<T>::lowest();
  const xt::xarray<T> m = xt::amax(v, ax, xt::keep_dims);
  const auto nans = count_where(xt::isnan(v), ax);
  const auto lowests = count_where(xt::equal(v, lowest), ax);
  return xt::where(nans > std::size_t(0), std::numeric_limits<T>::quiet_NaN(),
                   xt::where(xt::equal(m, lowest) && xt::equal(lowests, std::size_t(0)),
                             -std::numeric_limits<T>::infinity(), m));
}

}  // namespace

template <typename T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  const std::vector<std::size_t> ax = axes_of(x.shape(), axes, "sum");
  if (ax.empty()) return x.clone();  // NumPy's axis=(): nothing is reduced
  // xt::sum<double>: added up in order in a double accumulator, then rounded to T once.
  return Tensor<T>(xt::cast<T>(xt::sum<double>(xview(x), ax))).reshape(reduced_shape(x.shape(), axes, keepdim));
}
template <typename T>
Tensor<T> sum(const Tensor<T>& x) {
  return reference::sum(x, all_axes(x.shape()), false);
}
template <typename T>
Tensor<T> sum(const Tensor<T>& x, int axis, bool keepdim) {
  return reference::sum(x, std::vector<int>{axis}, keepdim);
}

template <typename T>
Tensor<T> mean(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  const std::vector<std::size_t> ax = axes_of(x.shape(), axes, "mean");
  if (ax.empty()) return x.clone();
  // Over zero elements this is 0 / 0 = NaN, as the fast kernel promises.
  return Tensor<T>(xt::cast<T>(xt::mean<double>(xview(x), ax))).reshape(reduced_shape(x.shape(), axes, keepdim));
}
template <typename T>
Tensor<T> mean(const Tensor<T>& x) {
  return reference::mean(x, all_axes(x.shape()), false);
}
template <typename T>
Tensor<T> mean(const Tensor<T>& x, int axis, bool keepdim) {
  return reference::mean(x, std::vector<int>{axis}, keepdim);
}

template <typename T>
Tensor<T> max(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  const std::vector<std::size_t> ax = axes_of(x.shape(), axes, "max");
  const Shape out_shape = reduced_shape(x.shape(), axes, keepdim);
  check_not_empty_reduction(x.shape(), out_shape, "max");
  if (ax.empty()) return x.clone();
  if (x.numel() == 0) return Tensor<T>::empty(out_shape);
  return Tensor<T>(group_max<T>(xview(x), ax)).reshape(out_shape);
}
template <typename T>
Tensor<T> max(const Tensor<T>& x) {
  return reference::max(x, all_axes(x.shape()), false);
}
template <typename T>
Tensor<T> max(const Tensor<T>& x, int axis, bool keepdim) {
  return reference::max(x, std::vector<int>{axis}, keepdim);
}

template <typename T>
Tensor<T> max_with_index(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim,
                         std::vector<std::size_t>& flat_index) {
  const Tensor<T> m = reference::max(x, axes, true);  // keepdim, so it broadcasts against x
  const std::size_t n = x.numel();
  flat_index.clear();
  if (n > 0) {
    // Every element's own flat index, laid out like x; where x is not maximal, n (too big).
    // The first maximal element is the one with the smallest flat index.
    const auto index = xt::reshape_view(xt::arange<std::size_t>(n), x.shape());
    const auto candidates = xt::where(xt::equal(xview(x), xview(m)), index, n);
    const std::vector<std::size_t> ax = axes_of(x.shape(), axes, "max");
    const xt::xarray<std::size_t> first =
        ax.empty() ? xt::xarray<std::size_t>(candidates) : xt::xarray<std::size_t>(xt::amin(candidates, ax));
    flat_index.assign(first.begin(), first.end());
  }
  return m.reshape(reduced_shape(x.shape(), axes, keepdim));
}

template <typename T>
Tensor<T> logsumexp(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  const std::vector<std::size_t> ax = axes_of(x.shape(), axes, "logsumexp");
  const Shape out_shape = reduced_shape(x.shape(), axes, keepdim);
  if (x.numel() == 0) return Tensor<T>::full(out_shape, -std::numeric_limits<T>::infinity());
  if (ax.empty()) return x.clone();  // log(exp(x)) = x
  const auto v = xview(x);
  // m + log(sum(exp(x - m))) with m the max (the sum in double); an infinite or NaN max is
  // itself the answer.
  const xt::xarray<T> m = group_max<T>(v, ax);
  const xt::xarray<T> shift = xt::where(xt::isfinite(m), m, T(0));
  const xt::xarray<double> lse = shift + xt::log(xt::sum<double>(xt::exp(v - shift), ax, xt::keep_dims));
  return Tensor<T>(xt::where(xt::isfinite(m), xt::cast<T>(lse), m)).reshape(out_shape);
}
template <typename T>
Tensor<T> logsumexp(const Tensor<T>& x) {
  return reference::logsumexp(x, all_axes(x.shape()), false);
}
template <typename T>
Tensor<T> logsumexp(const Tensor<T>& x, int axis, bool keepdim) {
  return reference::logsumexp(x, std::vector<int>{axis}, keepdim);
}

template <typename T>
std::vector<std::size_t> argmax(const Tensor<T>& x, int axis) {
  (void)axes_of(x.shape(), {axis}, "argmax");
  const Shape out_shape = reduced_shape(x.shape(), {axis}, false);
  check_not_empty_reduction(x.shape(), out_shape, "argmax");
  if (x.numel() == 0) return {};
  const std::size_t a = normalize_axis(axis, x.dim());
  // xtensor 0.24's argmax(e, axis) returns the ARGMIN for a 1-d e (its 1-d shortcut calls
  // std::min_element whatever the comparison); the axis-free form, std::max_element, is right.
  const xt::xarray<std::size_t> index = x.dim() == 1 ? xt::xarray<std::size_t>(xt::argmax(xview(x)))
                                                     : xt::xarray<std::size_t>(xt::argmax(xview(x), static_cast<std::ptrdiff_t>(a)));
  return std::vector<std::size_t>(index.begin(), index.end());
}

template <typename T>
Tensor<T> expand_reduced(const Tensor<T>& g, const Shape& in_shape, const std::vector<int>& axes,
                         T scale) {
  const Shape kept = reduced_shape(in_shape, axes, true);
  if (g.shape() != kept && g.shape() != reduced_shape(in_shape, axes, false))
    throw std::invalid_argument("expand_reduced: a reduction of " + shape_str(in_shape) +
                                " has shape " + shape_str(kept) +
                                " (or without the size-1 axes), got " + shape_str(g.shape()));
  // With the reduced axes kept as 1, NumPy broadcasting puts each value back over its group.
  const Tensor<T> g_kept = g.reshape(kept);
  return Tensor<T>(scale * xt::broadcast(xview(g_kept), in_shape));
}

#define FZ_REDUCE_REF_INSTANTIATE(T)                                                              \
  template Tensor<T> sum(const Tensor<T>&);                                                       \
  template Tensor<T> sum(const Tensor<T>&, const std::vector<int>&, bool);                        \
  template Tensor<T> sum(const Tensor<T>&, int, bool);                                            \
  template Tensor<T> mean(const Tensor<T>&);                                                      \
  template Tensor<T> mean(const Tensor<T>&, const std::vector<int>&, bool);                       \
  template Tensor<T> mean(const Tensor<T>&, int, bool);                                           \
  template Tensor<T> max(const Tensor<T>&);                                                       \
  template Tensor<T> max(const Tensor<T>&, const std::vector<int>&, bool);                        \
  template Tensor<T> max(const Tensor<T>&, int, bool);                                            \
  template Tensor<T> max_with_index(const Tensor<T>&, const std::vector<int>&, bool,              \
                                    std::vector<std::size_t>&);                                   \
  template Tensor<T> logsumexp(const Tensor<T>&);                                                 \
  template Tensor<T> logsumexp(const Tensor<T>&, const std::vector<int>&, bool);                  \
  template Tensor<T> logsumexp(const Tensor<T>&, int, bool);                                      \
  template std::vector<std::size_t> argmax(const Tensor<T>&, int);                                \
  template Tensor<T> expand_reduced(const Tensor<T>&, const Shape&, const std::vector<int>&, T);

FZ_REDUCE_REF_INSTANTIATE(float)
FZ_REDUCE_REF_INSTANTIATE(double)
#undef FZ_REDUCE_REF_INSTANTIATE

}  // namespace fz::reference
