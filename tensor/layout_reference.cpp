// tensor/layout_reference.cpp — the layout ops as xtensor views, evaluated into fresh tensors.
// Slicing is xt::strided_view with xt::all() on the leading axes and xt::range on the one cut;
// concat writes each piece into its range of the output the same way.
#include "tensor/layout_reference.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

#include <xtensor/xmanipulation.hpp>
#include <xtensor/xpad.hpp>
#include <xtensor/xslice.hpp>
#include <xtensor/xstrided_view.hpp>

#include "tensor/xtensor_view.hpp"

namespace fz::reference {

namespace {

std::size_t axis_of(int axis, const Shape& s, const char* op) {
  try {
    return normalize_axis(axis, s.size());
  } catch (const std::out_of_range& e) {
    throw std::out_of_range(std::string(op) + ": " + e.what() + " of shape " + shape_str(s));
  }
}

// x[:, ..., :, start:stop] with the range on `axis` (NumPy's basic slicing).
xt::xstrided_slice_vector range_on(std::size_t axis, std::size_t start, std::size_t stop) {
  xt::xstrided_slice_vector sv(axis, xt::all());
  sv.push_back(xt::range(start, stop));
  return sv;
}

// Validated {before, after} for every axis; `widths` covers the trailing ones.
PadWidths widths_for_all_axes(const Shape& s, const PadWidths& widths, const char* op) {
  if (widths.size() > s.size())
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(widths.size()) +
                                " pad widths for a tensor of shape " + shape_str(s));
  PadWidths w(s.size() - widths.size(), {0, 0});
  w.insert(w.end(), widths.begin(), widths.end());
  return w;
}

}  // namespace

template <typename T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<int>& axes) {
  const Shape& s = x.shape();
  if (axes.size() != s.size())
    throw std::invalid_argument("permute: " + std::to_string(axes.size()) +
                                " axes given for a tensor of shape " + shape_str(s));
  std::vector<std::size_t> perm;
  std::vector<bool> seen(s.size(), false);
  for (int a : axes) {
    perm.push_back(axis_of(a, s, "permute"));
    if (seen[perm.back()])
      throw std::invalid_argument("permute: axis " + std::to_string(a) + " repeated (shape " +
                                  shape_str(s) + ")");
    seen[perm.back()] = true;
  }
  if (perm.empty()) return x.clone();  // a 0-d tensor
  return Tensor<T>(xt::transpose(xview(x), perm));
}

template <typename T>
Tensor<T> transpose(const Tensor<T>& x, int axis_a, int axis_b) {
  std::vector<int> axes(x.dim());
  for (std::size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int>(i);
  std::swap(axes.at(axis_of(axis_a, x.shape(), "transpose")), axes.at(axis_of(axis_b, x.shape(), "transpose")));
  return reference::permute(x, axes);
}

template <typename T>
Tensor<T> slice(const Tensor<T>& x, int axis, long start, long stop) {
  const std::size_t a = axis_of(axis, x.shape(), "slice");
  const long n = static_cast<long>(x.shape()[a]);
  const long b = start < 0 ? start + n : start, e = stop < 0 ? stop + n : stop;
  if (b < 0 || e > n || b > e)
    throw std::out_of_range("slice: range [" + std::to_string(start) + ", " +
                            std::to_string(stop) + ") is invalid for axis " +
                            std::to_string(axis) + " of shape " + shape_str(x.shape()));
  return Tensor<T>(xt::strided_view(xview(x), range_on(a, static_cast<std::size_t>(b), static_cast<std::size_t>(e))));
}

template <typename T>
Tensor<T> concat(const std::vector<Tensor<T>>& xs, int axis) {
  if (xs.empty()) throw std::invalid_argument("concat: needs at least one tensor");
  const Shape& s0 = xs[0].shape();
  const std::size_t a = axis_of(axis, s0, "concat");
  Shape out_shape = s0;
  out_shape[a] = 0;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const Shape& s = xs[k].shape();
    bool ok = s.size() == s0.size();
    for (std::size_t d = 0; ok && d < s.size(); ++d) ok = d == a || s[d] == s0[d];
    if (!ok)
      throw std::invalid_argument("concat: tensor " + std::to_string(k) + " has shape " +
                                  shape_str(s) + ", which does not match " + shape_str(s0) +
                                  " outside axis " + std::to_string(axis));
    out_shape[a] += s[a];
  }
  Tensor<T> out = Tensor<T>::empty(out_shape);
  if (out.numel() == 0) return out;
  auto o = xview(out);
  std::size_t start = 0;
  for (const Tensor<T>& x : xs) {
    const std::size_t stop = start + x.shape()[a];
    if (x.numel() > 0) xt::strided_view(o, range_on(a, start, stop)) = xview(x);
    start = stop;
  }
  return out;
}

template <typename T>
std::vector<Tensor<T>> split(const Tensor<T>& x, const std::vector<std::size_t>& sizes, int axis) {
  const std::size_t a = axis_of(axis, x.shape(), "split");
  std::size_t total = 0;
  for (std::size_t n : sizes) total += n;
  if (total != x.shape()[a])
    throw std::invalid_argument("split: sizes add up to " + std::to_string(total) + ", but axis " +
                                std::to_string(axis) + " of shape " + shape_str(x.shape()) +
                                " has " + std::to_string(x.shape()[a]));
  std::vector<Tensor<T>> out;
  long start = 0;
  for (std::size_t n : sizes) {
    out.push_back(reference::slice(x, static_cast<int>(a), start, start + static_cast<long>(n)));
    start += static_cast<long>(n);
  }
  return out;
}

template <typename T>
std::vector<Tensor<T>> chunk(const Tensor<T>& x, std::size_t n, int axis) {
  const std::size_t a = axis_of(axis, x.shape(), "chunk");
  return reference::split(x, chunk_sizes(x.shape()[a], n), axis);
}

template <typename T>
Tensor<T> pad(const Tensor<T>& x, const PadWidths& widths, T value) {
  const PadWidths w = widths_for_all_axes(x.shape(), widths, "pad");
  if (w.empty()) return x.clone();
  std::vector<std::vector<std::size_t>> pad_width;
  for (const auto& [before, after] : w) pad_width.push_back({before, after});
  return Tensor<T>(xt::pad(xview(x), pad_width, xt::pad_mode::constant, value));
}

template <typename T>
Tensor<T> unpad(const Tensor<T>& x, const PadWidths& widths) {
  const PadWidths w = widths_for_all_axes(x.shape(), widths, "unpad");
  xt::xstrided_slice_vector sv;
  for (std::size_t d = 0; d < w.size(); ++d) {
    const std::size_t n = x.shape()[d];
    if (w[d].first + w[d].second > n)
      throw std::invalid_argument("unpad: removing " + std::to_string(w[d].first) + " + " +
                                  std::to_string(w[d].second) + " elements from axis " +
                                  std::to_string(d) + " of shape " + shape_str(x.shape()));
    sv.push_back(xt::range(w[d].first, n - w[d].second));
  }
  if (sv.empty()) return x.clone();
  return Tensor<T>(xt::strided_view(xview(x), sv));
}

template <typename T>
Tensor<T> pad2d(const Tensor<T>& x, std::size_t top, std::size_t bottom, std::size_t left,
                std::size_t right, T value) {
  if (x.dim() < 2)
    throw std::invalid_argument("pad2d: needs at least 2 axes, got shape " + shape_str(x.shape()));
  return reference::pad(x, PadWidths{{top, bottom}, {left, right}}, value);
}

template <typename T>
Tensor<T> squeeze2d(const Tensor<T>& x) {
  const Shape& s = x.shape();
  if (s.size() != 4 || s[2] % 2 != 0 || s[3] % 2 != 0)
    throw std::invalid_argument("squeeze2d: needs (N, C, H, W) with even H and W, got shape " +
                                shape_str(s));
  const std::size_t N = s[0], C = s[1], h = s[2] / 2, w = s[3] / 2;
  // x.view(N, C, h, 2, w, 2).permute(0, 3, 5, 1, 2, 4).reshape(N, 4C, h, w)
  const auto blocks = xt::reshape_view(xview(x), std::vector<std::size_t>{N, C, h, 2, w, 2});
  return Tensor<T>(xt::transpose(blocks, {0, 3, 5, 1, 2, 4})).reshape({N, 4 * C, h, w});
}

template <typename T>
Tensor<T> unsqueeze2d(const Tensor<T>& x) {
  const Shape& s = x.shape();
  if (s.size() != 4 || s[1] % 4 != 0)
    throw std::invalid_argument("unsqueeze2d: needs (N, 4C, H, W) with channels divisible by 4, "
                                "got shape " + shape_str(s));
  const std::size_t N = s[0], C = s[1] / 4, h = s[2], w = s[3];
  // The inverse: x.view(N, 2, 2, C, h, w).permute(0, 3, 4, 1, 5, 2).reshape(N, C, 2h, 2w)
  const auto groups = xt::reshape_view(xview(x), std::vector<std::size_t>{N, 2, 2, C, h, w});
  return Tensor<T>(xt::transpose(groups, {0, 3, 4, 1, 5, 2})).reshape({N, C, 2 * h, 2 * w});
}

template <typename T>
Tensor<T> flip(const Tensor<T>& x, int axis) {
  return Tensor<T>(xt::flip(xview(x), axis_of(axis, x.shape(), "flip")));
}

#define FZ_LAYOUT_REF_INSTANTIATE(T)                                                              \
  template Tensor<T> permute(const Tensor<T>&, const std::vector<int>&);                          \
  template Tensor<T> transpose(const Tensor<T>&, int, int);                                       \
  template Tensor<T> slice(const Tensor<T>&, int, long, long);                                    \
  template Tensor<T> concat(const std::vector<Tensor<T>>&, int);                                  \
  template std::vector<Tensor<T>> split(const Tensor<T>&, const std::vector<std::size_t>&, int);  \
  template std::vector<Tensor<T>> chunk(const Tensor<T>&, std::size_t, int);                      \
  template Tensor<T> pad(const Tensor<T>&, const PadWidths&, T);                                  \
  template Tensor<T> unpad(const Tensor<T>&, const PadWidths&);                                   \
  template Tensor<T> pad2d(const Tensor<T>&, std::size_t, std::size_t, std::size_t, std::size_t, T); \
  template Tensor<T> squeeze2d(const Tensor<T>&);                                                 \
  template Tensor<T> unsqueeze2d(const Tensor<T>&);                                               \
  template Tensor<T> flip(const Tensor<T>&, int);

FZ_LAYOUT_REF_INSTANTIATE(float)
FZ_LAYOUT_REF_INSTANTIATE(double)
FZ_LAYOUT_REF_INSTANTIATE(std::uint8_t)
#undef FZ_LAYOUT_REF_INSTANTIATE

}  // namespace fz::reference
