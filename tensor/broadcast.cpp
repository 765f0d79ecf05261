// tensor/broadcast.cpp — broadcasting rules, the collapsed BroadcastPlan, broadcast_to and
// sum_to (the one reduction of broadcast gradients back to an input's shape).
// Plain forms: tensor/broadcast_reference.cpp, run instead when reference_ops() is on.
#include "tensor/broadcast.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/broadcast_reference.hpp"
#include "tensor/parallel.hpp"
#include "tensor/reference_mode.hpp"
#include "tensor/simd.hpp"

namespace fz {

namespace {

Shape broadcast_shapes_named(const Shape& a, const Shape& b, const char* what) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::size_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      throw std::invalid_argument(std::string(what) + ": cannot broadcast shapes " + shape_str(a) +
                                  " and " + shape_str(b) + " (axis " + std::to_string(i) +
                                  " of the aligned shapes: " + std::to_string(da) + " vs " +
                                  std::to_string(db) + ")");
    }
  }
  return out;
}

// acc[0..K) += sum of the R contiguous rows src[r*K .. r*K+K), serial. For short rows
// (K not a multiple of the SIMD width and small) the rows are summed as one flat stream into a
// tile of lcm(K, W) accumulators, which is then folded — no per-row tails.
template <typename T>
void accumulate_rows(const T* src, std::size_t R, std::size_t K, T* acc) {
  using B = simd::batch<T>;
  constexpr std::size_t W = simd::width<T>;
  const auto plus = [](const B& x, const B& y) { return x + y; };
  if (K % W == 0 || K >= 4 * W) {
    for (std::size_t r = 0; r < R; ++r) simd::map_range(0, K, acc, plus, acc, src + r * K);
    return;
  }
  const std::size_t TL = K / std::gcd(K, W) * W;  // lcm(K, W), a multiple of W
  const std::size_t n = R * K;
  const std::size_t full = n / TL * TL;
  alignas(64) T tile[4 * W * W];  // TL <= K * W < 4 W^2
  std::fill(tile, tile + TL, T(0));
  for (std::size_t i = 0; i < full; i += TL) simd::map_range(0, TL, tile, plus, tile, src + i);
  for (std::size_t j = 0; j < TL; ++j) acc[j % K] += tile[j];
  for (std::size_t i = full; i < n; ++i) acc[(i - full) % K] += src[i];  // whole leftover rows
}

// out[0..K) = sum over R rows of src (row-major R x K); deterministic for any thread count
// (chunk boundaries depend only on R and K).
template <typename T>
void sum_leading(const T* src, std::size_t R, std::size_t K, T* out) {
  std::fill(out, out + K, T(0));
  const std::size_t total = R * K;
  if (total <= kParallelGrain) {
    accumulate_rows(src, R, K, out);
    return;
  }
  if (K >= 1024) {
    // Wide rows: split the columns, each thread owns a slice of out.
    const std::size_t W = simd::width<T>;
    const std::size_t nblk = (K + W - 1) / W;
    const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / (R * W));
    parallel_for(nblk, grain, [&](std::size_t b0, std::size_t b1) {
      const std::size_t c0 = b0 * W, c1 = std::min(K, b1 * W);
      const auto plus = [](const simd::batch<T>& x, const simd::batch<T>& y) { return x + y; };
      for (std::size_t r = 0; r < R; ++r)
        simd::map_range(0, c1 - c0, out + c0, plus, out + c0, src + r * K + c0);
    });
    return;
  }
  // Narrow rows: fixed row chunks with private partial sums, combined in chunk order.
  const std::size_t nchunks = std::min<std::size_t>((total + kParallelGrain - 1) / kParallelGrain, 64);
  const std::size_t rows_per = (R + nchunks - 1) / nchunks;
  std::vector<T> partial(nchunks * K, T(0));
  parallel_for(nchunks, 1, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t c = c0; c < c1; ++c) {
      const std::size_t r0 = c * rows_per, r1 = std::min(R, r0 + rows_per);
      if (r0 < r1) accumulate_rows(src + r0 * K, r1 - r0, K, partial.data() + c * K);
    }
  });
  for (std::size_t c = 0; c < nchunks; ++c)
    for (std::size_t k = 0; k < K; ++k) out[k] += partial[c * K + k];
}

// Sum of a whole buffer, in fixed chunks combined in order (deterministic).
template <typename T>
T sum_all(const T* p, std::size_t n) {
  if (n <= kParallelGrain) return simd::sum_range(p, n);
  const std::size_t nchunks = (n + kParallelGrain - 1) / kParallelGrain;
  std::vector<T> partial(nchunks);
  parallel_for(nchunks, 1, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t c = c0; c < c1; ++c) {
      const std::size_t lo = c * kParallelGrain, hi = std::min(n, lo + kParallelGrain);
      partial[c] = simd::sum_range(p + lo, hi - lo);
    }
  });
  T s = 0;
  for (T v : partial) s += v;
  return s;
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  return broadcast_shapes_named(a, b, "broadcast_shapes");
}

bool broadcastable_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const std::size_t off = to.size() - from.size();
  for (std::size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[off + i]) return false;
  return true;
}

BroadcastPlan make_broadcast_plan(const Shape& a, const Shape& b, const char* what) {
  BroadcastPlan p;
  p.out_shape = broadcast_shapes_named(a, b, what);
  p.numel = shape_numel(p.out_shape);
  if (p.numel <= 1) return p;
  const std::size_t n = p.out_shape.size();
  // Strides of an operand viewed in the n-d output space: 0 along its size-1 axes.
  const auto strides_of = [n](const Shape& s) {
    std::vector<std::size_t> st(n, 0);
    std::size_t acc = 1;
    for (std::size_t i = s.size(); i-- > 0;) {
      st[n - s.size() + i] = s[i] == 1 ? 0 : acc;
      acc *= s[i];
    }
    return st;
  };
  const std::vector<std::size_t> sa = strides_of(a), sb = strides_of(b);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t s = p.out_shape[i];
    if (s == 1) continue;
    // Axis i continues the previous collapsed axis when stepping it once is stepping i s times.
    if (!p.sizes.empty() && p.a_stride.back() == sa[i] * s && p.b_stride.back() == sb[i] * s) {
      p.sizes.back() *= s;
      p.a_stride.back() = sa[i];
      p.b_stride.back() = sb[i];
    } else {
      p.sizes.push_back(s);
      p.a_stride.push_back(sa[i]);
      p.b_stride.push_back(sb[i]);
    }
  }
  return p;
}

template <typename T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape) {
  if (reference_ops()) return reference::broadcast_to(x, shape);
  if (!broadcastable_to(x.shape(), shape))
    throw std::invalid_argument("broadcast_to: cannot broadcast shape " + shape_str(x.shape()) +
                                " to " + shape_str(shape));
  if (x.shape() == shape) return x;
  const std::size_t n = shape_numel(shape);
  if (x.numel() == n) return x.reshape(shape);  // only size-1 axes were added
  Tensor<T> out = Tensor<T>::empty(shape);
  if (n == 0) return out;
  if (x.numel() == 1) {
    out.fill(x[0]);
    return out;
  }
  const BroadcastPlan p = make_broadcast_plan(x.shape(), shape, "broadcast_to");
  const std::size_t d = p.sizes.size(), L = p.sizes.back(), rows = n / L;
  const bool inner_dense = p.a_stride.back() != 0;
  const T* src = x.data();
  T* dst = out.data();
  parallel_for(rows, std::max<std::size_t>(1, kParallelGrain / L), [&](std::size_t r0, std::size_t r1) {
    simd::OuterCounter it(p.sizes, p.a_stride, p.b_stride, d - 1);
    it.seek(r0);
    for (std::size_t r = r0; r < r1; ++r, it.next()) {
      if (inner_dense)
        std::copy(src + it.oa, src + it.oa + L, dst + r * L);
      else
        std::fill(dst + r * L, dst + (r + 1) * L, src[it.oa]);
    }
  });
  return out;
}

template <typename T>
Tensor<T> sum_to(const Tensor<T>& g, const Shape& shape) {
  if (reference_ops()) return reference::sum_to(g, shape);
  if (g.shape() == shape) return g;
  if (shape.size() > g.dim()) {
    // Extra leading size-1 axes on the target (a (1,C,1,1) input under a (C,H,W) gradient)
    // only change the rank: reduce to the rest, then view with the target's shape.
    const std::size_t extra = shape.size() - g.dim();
    if (std::all_of(shape.begin(), shape.begin() + extra, [](std::size_t s) { return s == 1; }))
      return sum_to(g, Shape(shape.begin() + extra, shape.end())).reshape(shape);
  }
  if (!broadcastable_to(shape, g.shape()))
    throw std::invalid_argument("sum_to: cannot reduce a gradient of shape " + shape_str(g.shape()) +
                                " to shape " + shape_str(shape) +
                                " (the target does not broadcast to the gradient's shape)");
  const std::size_t m = shape_numel(shape);
  if (m == g.numel()) return g.reshape(shape);  // only leading / size-1 axes differ
  Tensor<T> out(shape);
  if (g.numel() == 0) return out;
  if (m == 1) {
    out[0] = sum_all(g.data(), g.numel());
    return out;
  }
  // a = target (stride 0 on reduced axes), b = gradient (dense). Collapsed axes alternate
  // between kept and reduced; m > 1 and m < numel give at least two of them.
  BroadcastPlan p = make_broadcast_plan(shape, g.shape(), "sum_to");
  std::vector<std::size_t> sizes = p.sizes, ostride = p.a_stride;
  const T* src = g.data();
  Tensor<T> rowsums;
  if (ostride.back() == 0) {
    // Reduced innermost axis: contiguous row sums first, e.g. (N,C,H,W) -> (N,C) for a (C,1,1) bias.
    const std::size_t L = sizes.back(), rows = g.numel() / L;
    rowsums = Tensor<T>::empty({rows});
    T* rs = rowsums.data();
    parallel_for(rows, std::max<std::size_t>(1, kParallelGrain / L), [&](std::size_t r0, std::size_t r1) {
      for (std::size_t r = r0; r < r1; ++r) rs[r] = simd::sum_range(src + r * L, L);
    });
    src = rs;
    sizes.pop_back();
    ostride.pop_back();
  }
  const std::size_t d = sizes.size();
  const std::size_t L = sizes.back();  // kept innermost axis: out stride 1
  if (d == 1) {
    std::copy(src, src + L, out.data());
    return out;
  }
  std::size_t rows = 1;
  for (std::size_t k = 0; k + 1 < d; ++k) rows *= sizes[k];
  if (d == 2) {
    sum_leading(src, rows, L, out.data());  // (F,) from (N,F); (C,) from the (N,C) row sums
    return out;
  }
  // General alternating pattern (e.g. (2,1,3) from (4,2,5,3)): serial, rows added into place.
  std::vector<std::size_t> zeros(d, 0);
  simd::OuterCounter it(sizes, ostride, zeros, d - 1);
  T* o = out.data();
  const auto plus = [](const simd::batch<T>& x, const simd::batch<T>& y) { return x + y; };
  for (std::size_t r = 0; r < rows; ++r, it.next())
    simd::map_range(0, L, o + it.oa, plus, o + it.oa, src + r * L);
  return out;
}

template Tensor<float> broadcast_to(const Tensor<float>&, const Shape&);
template Tensor<double> broadcast_to(const Tensor<double>&, const Shape&);
template Tensor<float> sum_to(const Tensor<float>&, const Shape&);
template Tensor<double> sum_to(const Tensor<double>&, const Shape&);

}  // namespace fz
