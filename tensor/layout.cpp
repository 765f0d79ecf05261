// tensor/layout.cpp — layout ops as contiguous block copies.
//
// Most ops view the tensor as (outer, axis, inner) around one axis, so each step copies a
// contiguous block of `inner` (or axis*inner) elements with std::copy. permute is the general
// strided gather; squeeze2d/unsqueeze2d have their own loops because they are on the hot path
// of every multi-scale flow. Plain forms (xtensor views): tensor/layout_reference.cpp, run
// instead when reference_ops() is on.
#include "tensor/layout.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "tensor/layout_reference.hpp"
#include "tensor/parallel.hpp"
#include "tensor/reference_mode.hpp"

namespace fz {

namespace {

std::size_t axis_of(int axis, const Shape& s, const char* op) {
  const long a = axis < 0 ? static_cast<long>(s.size()) + axis : axis;
  if (a < 0 || a >= static_cast<long>(s.size()))
    throw std::out_of_range(std::string(op) + ": axis " + std::to_string(axis) +
                            " is out of range for a tensor of shape " + shape_str(s));
  return static_cast<std::size_t>(a);
}

std::size_t prod(const Shape& s, std::size_t from, std::size_t to) {
  std::size_t n = 1;
  for (std::size_t i = from; i < to; ++i) n *= s[i];
  return n;
}

// Copies `extent` box: dst[dst_lo + k] = src[src_lo + k] for every multi-index k < extent.
template <typename T>
void copy_box(const T* src, const Shape& src_shape, const std::vector<std::size_t>& src_lo,
              T* dst, const Shape& dst_shape, const std::vector<std::size_t>& dst_lo,
              const Shape& extent) {
  const std::size_t nd = extent.size();
  if (shape_numel(extent) == 0) return;
  if (nd == 0) {
    *dst = *src;
    return;
  }
  const auto ss = row_major_strides(src_shape), ds = row_major_strides(dst_shape);
  const std::size_t row = extent[nd - 1];
  const std::size_t rows = shape_numel(extent) / row;
  const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / row);
  parallel_for(rows, grain, [&](std::size_t b, std::size_t e) {
    for (std::size_t q = b; q < e; ++q) {
      std::size_t rem = q, so = src_lo[nd - 1], doff = dst_lo[nd - 1];
      for (std::size_t d = nd - 1; d-- > 0;) {
        const std::size_t k = rem % extent[d];
        rem /= extent[d];
        so += (src_lo[d] + k) * ss[d];
        doff += (dst_lo[d] + k) * ds[d];
      }
      std::copy(src + so, src + so + row, dst + doff);
    }
  });
}

// Validated per-axis {before, after} for all axes (leading axes get {0, 0}).
PadWidths full_widths(const Shape& s, const PadWidths& widths, const char* op) {
  if (widths.size() > s.size())
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(widths.size()) +
                                " pad widths for a tensor of shape " + shape_str(s));
  PadWidths w(s.size(), {0, 0});
  std::copy(widths.begin(), widths.end(), w.begin() + static_cast<long>(s.size() - widths.size()));
  return w;
}

}  // namespace

template <typename T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<int>& axes) {
  if (reference_ops()) return reference::permute(x, axes);
  const Shape& s = x.shape();
  const std::size_t nd = s.size();
  if (axes.size() != nd)
    throw std::invalid_argument("permute: " + std::to_string(axes.size()) +
                                " axes given for a tensor of shape " + shape_str(s));
  std::vector<std::size_t> perm(nd);
  std::vector<bool> seen(nd, false);
  for (std::size_t i = 0; i < nd; ++i) {
    perm[i] = axis_of(axes[i], s, "permute");
    if (seen[perm[i]])
      throw std::invalid_argument("permute: axis " + std::to_string(axes[i]) +
                                  " repeated (shape " + shape_str(s) + ")");
    seen[perm[i]] = true;
  }
  const auto in_strides = row_major_strides(s);
  Shape out_shape(nd);
  for (std::size_t i = 0; i < nd; ++i) out_shape[i] = s[perm[i]];
  Tensor<T> out = Tensor<T>::empty(out_shape);
  if (out.numel() == 0) return out;

  // Output axes (size-1 ones dropped) with their input strides; merge neighbours that are
  // contiguous in the input too, so e.g. (N,C,H,W)->(N,H,W,C) becomes a 3-d gather.
  std::vector<std::size_t> size, stride;
  for (std::size_t i = 0; i < nd; ++i) {
    if (out_shape[i] == 1) continue;
    const std::size_t st = in_strides[perm[i]];
    if (!size.empty() && stride.back() == st * out_shape[i]) {
      size.back() *= out_shape[i];
      stride.back() = st;
    } else {
      size.push_back(out_shape[i]);
      stride.push_back(st);
    }
  }
  const T* src = x.data();
  T* dst = out.data();
  if (size.size() <= 1 && (size.empty() || stride[0] == 1)) {
    std::copy(src, src + x.numel(), dst);
    return out;
  }
  const std::size_t m = size.size(), row = size[m - 1], rs = stride[m - 1];
  const std::size_t rows = out.numel() / row;
  const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / row);
  parallel_for(rows, grain, [&](std::size_t b, std::size_t e) {
    for (std::size_t q = b; q < e; ++q) {
      std::size_t rem = q, off = 0;
      for (std::size_t d = m - 1; d-- > 0;) {
        off += (rem % size[d]) * stride[d];
        rem /= size[d];
      }
      T* o = dst + q * row;
      const T* in = src + off;
      if (rs == 1) {
        std::copy(in, in + row, o);
      } else {
        for (std::size_t j = 0; j < row; ++j) o[j] = in[j * rs];
      }
    }
  });
  return out;
}

template <typename T>
Tensor<T> transpose(const Tensor<T>& x, int axis_a, int axis_b) {
  if (reference_ops()) return reference::transpose(x, axis_a, axis_b);
  const std::size_t a = axis_of(axis_a, x.shape(), "transpose");
  const std::size_t b = axis_of(axis_b, x.shape(), "transpose");
  std::vector<int> axes(x.dim());
  for (std::size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int>(i);
  std::swap(axes[a], axes[b]);
  return permute(x, axes);
}

template <typename T>
Tensor<T> slice(const Tensor<T>& x, int axis, long start, long stop) {
  if (reference_ops()) return reference::slice(x, axis, start, stop);
  const Shape& s = x.shape();
  const std::size_t a = axis_of(axis, s, "slice");
  const long n = static_cast<long>(s[a]);
  const long b = start < 0 ? start + n : start, e = stop < 0 ? stop + n : stop;
  if (b < 0 || e > n || b > e)
    throw std::out_of_range("slice: range [" + std::to_string(start) + ", " +
                            std::to_string(stop) + ") is invalid for axis " +
                            std::to_string(axis) + " of shape " + shape_str(s));
  Shape out_shape = s;
  out_shape[a] = static_cast<std::size_t>(e - b);
  Tensor<T> out = Tensor<T>::empty(out_shape);
  const std::size_t outer = prod(s, 0, a), inner = prod(s, a + 1, s.size());
  const std::size_t block = out_shape[a] * inner, in_block = s[a] * inner;
  const T* src = x.data() + static_cast<std::size_t>(b) * inner;
  T* dst = out.data();
  if (block == 0) return out;
  const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / block);
  parallel_for(outer, grain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t o = lo; o < hi; ++o)
      std::copy(src + o * in_block, src + o * in_block + block, dst + o * block);
  });
  return out;
}

template <typename T>
Tensor<T> concat(const std::vector<Tensor<T>>& xs, int axis) {
  if (reference_ops()) return reference::concat(xs, axis);
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
  const std::size_t outer = prod(s0, 0, a), inner = prod(s0, a + 1, s0.size());
  const std::size_t out_block = out_shape[a] * inner;
  T* dst = out.data();
  const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / out_block);
  parallel_for(outer, grain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t o = lo; o < hi; ++o) {
      T* d = dst + o * out_block;
      for (const Tensor<T>& x : xs) {
        const std::size_t blk = x.shape()[a] * inner;
        const T* src = x.data() + o * blk;
        d = std::copy(src, src + blk, d);
      }
    }
  });
  return out;
}

template <typename T>
std::vector<Tensor<T>> split(const Tensor<T>& x, const std::vector<std::size_t>& sizes, int axis) {
  if (reference_ops()) return reference::split(x, sizes, axis);
  const std::size_t a = axis_of(axis, x.shape(), "split");
  std::size_t total = 0;
  for (std::size_t n : sizes) total += n;
  if (total != x.shape()[a]) {
    std::string list;
    for (std::size_t i = 0; i < sizes.size(); ++i) list += (i ? ", " : "") + std::to_string(sizes[i]);
    throw std::invalid_argument("split: sizes [" + list + "] add up to " + std::to_string(total) +
                                ", but axis " + std::to_string(axis) + " of shape " +
                                shape_str(x.shape()) + " has " + std::to_string(x.shape()[a]));
  }
  std::vector<Tensor<T>> out;
  out.reserve(sizes.size());
  long start = 0;
  for (std::size_t n : sizes) {
    out.push_back(slice(x, static_cast<int>(a), start, start + static_cast<long>(n)));
    start += static_cast<long>(n);
  }
  return out;
}

std::vector<std::size_t> chunk_sizes(std::size_t size, std::size_t n) {
  if (n == 0) throw std::invalid_argument("chunk: the number of chunks must be positive");
  const std::size_t step = (size + n - 1) / n;
  std::vector<std::size_t> sizes;
  if (size == 0) return std::vector<std::size_t>(1, 0);
  for (std::size_t done = 0; done < size; done += step) sizes.push_back(std::min(step, size - done));
  return sizes;
}

template <typename T>
std::vector<Tensor<T>> chunk(const Tensor<T>& x, std::size_t n, int axis) {
  if (reference_ops()) return reference::chunk(x, n, axis);
  const std::size_t a = axis_of(axis, x.shape(), "chunk");
  return split(x, chunk_sizes(x.shape()[a], n), axis);
}

template <typename T>
Tensor<T> pad(const Tensor<T>& x, const PadWidths& widths, T value) {
  if (reference_ops()) return reference::pad(x, widths, value);
  const PadWidths w = full_widths(x.shape(), widths, "pad");
  Shape out_shape = x.shape();
  std::vector<std::size_t> lo(w.size()), zero(w.size(), 0);
  for (std::size_t d = 0; d < w.size(); ++d) {
    out_shape[d] += w[d].first + w[d].second;
    lo[d] = w[d].first;
  }
  Tensor<T> out(out_shape, value);
  copy_box(x.data(), x.shape(), zero, out.data(), out_shape, lo, x.shape());
  return out;
}

template <typename T>
Tensor<T> unpad(const Tensor<T>& x, const PadWidths& widths) {
  if (reference_ops()) return reference::unpad(x, widths);
  const PadWidths w = full_widths(x.shape(), widths, "unpad");
  Shape out_shape = x.shape();
  std::vector<std::size_t> lo(w.size()), zero(w.size(), 0);
  for (std::size_t d = 0; d < w.size(); ++d) {
    if (w[d].first + w[d].second > out_shape[d])
      throw std::invalid_argument("unpad: removing " + std::to_string(w[d].first) + " + " +
                                  std::to_string(w[d].second) + " elements from axis " +
                                  std::to_string(d) + " of shape " + shape_str(x.shape()));
    out_shape[d] -= w[d].first + w[d].second;
    lo[d] = w[d].first;
  }
  Tensor<T> out = Tensor<T>::empty(out_shape);
  copy_box(x.data(), x.shape(), lo, out.data(), out_shape, zero, out_shape);
  return out;
}

template <typename T>
Tensor<T> pad2d(const Tensor<T>& x, std::size_t top, std::size_t bottom, std::size_t left,
                std::size_t right, T value) {
  if (reference_ops()) return reference::pad2d(x, top, bottom, left, right, value);
  if (x.dim() < 2)
    throw std::invalid_argument("pad2d: needs at least 2 axes, got shape " + shape_str(x.shape()));
  return pad(x, PadWidths{{top, bottom}, {left, right}}, value);
}

template <typename T>
Tensor<T> squeeze2d(const Tensor<T>& x) {
  if (reference_ops()) return reference::squeeze2d(x);
  const Shape& s = x.shape();
  if (s.size() != 4 || s[2] % 2 != 0 || s[3] % 2 != 0)
    throw std::invalid_argument("squeeze2d: needs (N, C, H, W) with even H and W, got shape " +
                                shape_str(s));
  const std::size_t N = s[0], C = s[1], H = s[2], W = s[3], h = H / 2, w = W / 2;
  Tensor<T> out = Tensor<T>::empty({N, 4 * C, h, w});
  const T* src = x.data();
  T* dst = out.data();
  // One unit = one output plane (n, (dy*2+dx)*C + c) of h*w elements.
  const std::size_t planes = N * 4 * C, plane = h * w;
  const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(1, plane));
  parallel_for(planes, grain, [&](std::size_t b, std::size_t e) {
    for (std::size_t p = b; p < e; ++p) {
      const std::size_t n = p / (4 * C), oc = p % (4 * C), q = oc / C, c = oc % C;
      const std::size_t dy = q / 2, dx = q % 2;
      const T* in = src + (n * C + c) * H * W + dy * W + dx;
      T* o = dst + p * plane;
      for (std::size_t i = 0; i < h; ++i, in += 2 * W, o += w)
        for (std::size_t j = 0; j < w; ++j) o[j] = in[2 * j];
    }
  });
  return out;
}

template <typename T>
Tensor<T> unsqueeze2d(const Tensor<T>& x) {
  if (reference_ops()) return reference::unsqueeze2d(x);
  const Shape& s = x.shape();
  if (s.size() != 4 || s[1] % 4 != 0)
    throw std::invalid_argument("unsqueeze2d: needs (N, 4C, H, W) with channels divisible by 4, "
                                "got shape " + shape_str(s));
  const std::size_t N = s[0], C = s[1] / 4, h = s[2], w = s[3], H = 2 * h, W = 2 * w;
  Tensor<T> out = Tensor<T>::empty({N, C, H, W});
  const T* src = x.data();
  T* dst = out.data();
  // One unit = one output plane (n, c); row 2i+dy interleaves input planes q = dy*2 + {0, 1}.
  const std::size_t planes = N * C, plane = H * W;
  const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(1, plane));
  parallel_for(planes, grain, [&](std::size_t b, std::size_t e) {
    for (std::size_t p = b; p < e; ++p) {
      const std::size_t n = p / C, c = p % C;
      T* o = dst + p * plane;
      for (std::size_t dy = 0; dy < 2; ++dy) {
        const T* in0 = src + ((n * 4 + dy * 2) * C + c) * h * w;  // dx = 0
        const T* in1 = in0 + C * h * w;                              // dx = 1
        for (std::size_t i = 0; i < h; ++i) {
          T* row = o + (2 * i + dy) * W;
          for (std::size_t j = 0; j < w; ++j) {
            row[2 * j] = in0[i * w + j];
            row[2 * j + 1] = in1[i * w + j];
          }
        }
      }
    }
  });
  return out;
}

template <typename T>
Tensor<T> flip(const Tensor<T>& x, int axis) {
  if (reference_ops()) return reference::flip(x, axis);
  const Shape& s = x.shape();
  const std::size_t a = axis_of(axis, s, "flip");
  Tensor<T> out = Tensor<T>::empty(s);
  const std::size_t outer = prod(s, 0, a), n = s[a], inner = prod(s, a + 1, s.size());
  if (out.numel() == 0) return out;
  const T* src = x.data();
  T* dst = out.data();
  const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / (n * inner));
  parallel_for(outer, grain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t o = lo; o < hi; ++o)
      for (std::size_t i = 0; i < n; ++i) {
        const T* in = src + (o * n + (n - 1 - i)) * inner;
        std::copy(in, in + inner, dst + (o * n + i) * inner);
      }
  });
  return out;
}

#define FZ_INSTANTIATE_LAYOUT(T)                                                                  \
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

FZ_INSTANTIATE_LAYOUT(float)
FZ_INSTANTIATE_LAYOUT(double)
FZ_INSTANTIATE_LAYOUT(std::uint8_t)

#undef FZ_INSTANTIATE_LAYOUT

}  // namespace fz
