// tensor/reduce.cpp — reductions over all elements or over axis sets.
//
// Every reduction goes through one plan: size-1 axes are dropped and neighbouring axes that are
// both reduced (or both kept) are merged, so any request becomes one of two loop shapes over the
// flat buffer:
//   A. the innermost merged axis is reduced (length K): each output is a sum over R contiguous
//      runs of K elements (last-axis sums, "all but axis 0", NCHW per-channel sums as (N,C,HW));
//   B. the innermost merged axis is kept (length L): each block of L outputs accumulates R
//      contiguous rows of L elements (e.g. a sum over the batch axis of (N, D)).
// The offsets of the kept and reduced index combinations are tabulated once, so the inner
// loops are plain contiguous loops. A "policy" (sum, max, max-with-index, logsumexp) supplies
// the accumulator type and how runs/rows are folded into it.
// Plain forms (xtensor reducers): tensor/reduce_reference.cpp, run instead when reference_ops().
#include "tensor/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <xsimd/xsimd.hpp>

#include "tensor/parallel.hpp"
#include "tensor/reduce_reference.hpp"
#include "tensor/reference_mode.hpp"

namespace fz {

namespace {

// Elements per partial result when a single output is large enough to be split (fixed, so the
// split — and with it the rounding — does not depend on the thread count).
constexpr std::size_t kChunk = 32768;
// Width of the output tiles in loop shape B (accumulators live on the stack).
constexpr std::size_t kTile = 256;

struct Plan {
  Shape out_shape;
  std::size_t count = 1;       // input elements reduced into each output
  bool inner_reduced = true;   // loop shape A (true) or B (false)
  std::size_t inner = 1;       // K (shape A) or L (shape B)
  std::vector<std::size_t> kept_off;  // input offset of each kept combination (row-major)
  std::vector<std::size_t> red_off;   // input offset of each reduced combination (row-major)
};

std::string axes_str(const std::vector<int>& axes) {
  std::string s = "[";
  for (std::size_t i = 0; i < axes.size(); ++i) s += (i ? ", " : "") + std::to_string(axes[i]);
  return s + "]";
}

std::vector<bool> axis_mask(const Shape& s, const std::vector<int>& axes, const char* op) {
  std::vector<bool> mask(s.size(), false);
  for (int a : axes) {
    const long k = a < 0 ? static_cast<long>(s.size()) + a : a;
    if (k < 0 || k >= static_cast<long>(s.size()))
      throw std::out_of_range(std::string(op) + ": axis " + std::to_string(a) +
                              " is out of range for a tensor of shape " + shape_str(s));
    if (mask[static_cast<std::size_t>(k)])
      throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(a) +
                                  " appears twice in " + axes_str(axes) + " (shape " +
                                  shape_str(s) + ")");
    mask[static_cast<std::size_t>(k)] = true;
  }
  return mask;
}

std::vector<bool> all_mask(const Shape& s) { return std::vector<bool>(s.size(), true); }

struct Dim {
  std::size_t size, stride;
  bool reduced;
};

std::vector<std::size_t> offsets(const std::vector<Dim>& dims) {
  std::vector<std::size_t> offs{0};
  for (const Dim& d : dims) {
    std::vector<std::size_t> next;
    next.reserve(offs.size() * d.size);
    for (std::size_t o : offs)
      for (std::size_t j = 0; j < d.size; ++j) next.push_back(o + j * d.stride);
    offs.swap(next);
  }
  return offs;
}

Plan make_plan(const Shape& s, const std::vector<bool>& mask, bool keepdim) {
  Plan p;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (mask[i]) {
      p.count *= s[i];
      if (keepdim) p.out_shape.push_back(1);
    } else {
      p.out_shape.push_back(s[i]);
    }
  }
  if (shape_numel(s) == 0) return p;  // callers handle empty inputs before looping
  const std::vector<std::size_t> strides = row_major_strides(s);
  std::vector<Dim> dims;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 1) continue;
    // In a contiguous tensor two neighbouring axes (size-1 axes skipped) always merge.
    if (!dims.empty() && dims.back().reduced == mask[i]) {
      dims.back().size *= s[i];
      dims.back().stride = strides[i];
    } else {
      dims.push_back({s[i], strides[i], static_cast<bool>(mask[i])});
    }
  }
  if (dims.empty()) {  // a single element
    p.kept_off = {0};
    p.red_off = {0};
    return p;
  }
  const Dim last = dims.back();
  dims.pop_back();
  p.inner_reduced = last.reduced;
  p.inner = last.size;
  std::vector<Dim> kept, red;
  for (const Dim& d : dims) (d.reduced ? red : kept).push_back(d);
  p.kept_off = offsets(kept);
  p.red_off = offsets(red);
  return p;
}

// Sum of n contiguous values: SIMD partial sums in T over short blocks, folded into double.
template <typename T>
double block_sum(const T* p, std::size_t n) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  constexpr std::size_t kBlock = 4 * W * 32;
  double total = 0.0;
  std::size_t i = 0;
  while (i + 4 * W <= n) {
    const std::size_t end = std::min(n, i + kBlock);
    B a0(T(0)), a1(T(0)), a2(T(0)), a3(T(0));
    for (; i + 4 * W <= end; i += 4 * W) {
      a0 += xsimd::load_unaligned(p + i);
      a1 += xsimd::load_unaligned(p + i + W);
      a2 += xsimd::load_unaligned(p + i + 2 * W);
      a3 += xsimd::load_unaligned(p + i + 3 * W);
    }
    // Horizontal add through memory (xsimd::hadd trips a GCC 12 false warning on AVX-512).
    alignas(64) T lanes[W];
    ((a0 + a1) + (a2 + a3)).store_aligned(lanes);
    // Pairwise halving keeps the dependency chain short (log2 W adds, not W).
    for (std::size_t h = W / 2; h > 0; h /= 2)
      for (std::size_t l = 0; l < h; ++l) lanes[l] += lanes[l + h];
    total += static_cast<double>(lanes[0]);
  }
  for (; i < n; ++i) total += static_cast<double>(p[i]);
  return total;
}

template <typename T>
struct SumPolicy {
  using Acc = double;
  Acc init() const { return 0.0; }
  Acc run(const T* p, std::size_t n, std::size_t) const { return block_sum(p, n); }
  void col(Acc* a, const T* p, std::size_t n, std::size_t) const {
    for (std::size_t i = 0; i < n; ++i) a[i] += static_cast<double>(p[i]);
  }
  Acc merge(Acc a, Acc b) const { return a + b; }
};

// max(a, b) that lets NaN win (so a NaN anywhere shows in the result).
template <typename T>
inline T nan_max(T a, T b) {
  return (b > a || std::isnan(b)) ? b : a;
}

template <typename T>
struct MaxPolicy {
  using Acc = T;
  Acc init() const { return -std::numeric_limits<T>::infinity(); }
  Acc run(const T* p, std::size_t n, std::size_t) const {
    T m = init();
    for (std::size_t i = 0; i < n; ++i) m = nan_max(m, p[i]);
    return m;
  }
  void col(Acc* a, const T* p, std::size_t n, std::size_t) const {
    for (std::size_t i = 0; i < n; ++i) a[i] = nan_max(a[i], p[i]);
  }
  Acc merge(Acc a, Acc b) const { return nan_max(a, b); }
};

// Max plus the flat input index of its first occurrence. Runs and rows are visited in
// row-major order of the reduced elements and partials merged in order, so "first" is exact.
template <typename T>
struct MaxIndexPolicy {
  struct Acc {
    T v;
    std::size_t i;
  };
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
  const T* base;
  static bool better(const Acc& cur, T v) {
    return cur.i == npos || v > cur.v || (std::isnan(v) && !std::isnan(cur.v));
  }
  Acc init() const { return {T(0), npos}; }
  Acc run(const T* p, std::size_t n, std::size_t) const {
    Acc a = init();
    for (std::size_t k = 0; k < n; ++k)
      if (better(a, p[k])) a = {p[k], static_cast<std::size_t>(p + k - base)};
    return a;
  }
  void col(Acc* a, const T* p, std::size_t n, std::size_t) const {
    for (std::size_t k = 0; k < n; ++k)
      if (better(a[k], p[k])) a[k] = {p[k], static_cast<std::size_t>(p + k - base)};
  }
  Acc merge(Acc a, Acc b) const { return (b.i != npos && better(a, b.v)) ? b : a; }
};

// sum(exp(x - shift[o])) where shift is the per-output max (0 when the max is not finite:
// those outputs are fixed up by the caller).
template <typename T>
struct ExpSumPolicy {
  using Acc = double;
  const double* shift;
  Acc init() const { return 0.0; }
  Acc run(const T* p, std::size_t n, std::size_t o) const {
    const double s = shift[o];
    double a = 0.0;
    for (std::size_t i = 0; i < n; ++i) a += std::exp(static_cast<double>(p[i]) - s);
    return a;
  }
  void col(Acc* a, const T* p, std::size_t n, std::size_t o) const {
    for (std::size_t i = 0; i < n; ++i) a[i] += std::exp(static_cast<double>(p[i]) - shift[o + i]);
  }
  Acc merge(Acc a, Acc b) const { return a + b; }
};

// Runs the plan with a policy; returns one accumulator per output element (row-major).
template <typename T, typename Policy>
std::vector<typename Policy::Acc> reduce_acc(const Plan& p, const T* x, const Policy& pol) {
  using Acc = typename Policy::Acc;
  const std::size_t M = p.kept_off.size(), R = p.red_off.size();
  if (p.inner_reduced) {
    const std::size_t K = p.inner, work = R * K;
    std::vector<Acc> res(M);
    const bool split = M < 8 && M * work > 2 * kParallelGrain;
    if (!split) {
      const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(work, 1));
      parallel_for(M, grain, [&](std::size_t b, std::size_t e) {
        for (std::size_t m = b; m < e; ++m) {
          Acc a = pol.init();
          for (std::size_t r = 0; r < R; ++r)
            a = pol.merge(a, pol.run(x + p.kept_off[m] + p.red_off[r], K, m));
          res[m] = a;
        }
      });
      return res;
    }
    // Few, large outputs: split each into P fixed pieces (of one run, or of groups of runs).
    const std::size_t group = R == 1 ? 0 : std::max<std::size_t>(1, kChunk / std::max<std::size_t>(K, 1));
    const std::size_t P = R == 1 ? (K + kChunk - 1) / kChunk : (R + group - 1) / group;
    std::vector<Acc> part(M * P);
    parallel_for(M * P, 1, [&](std::size_t b, std::size_t e) {
      for (std::size_t u = b; u < e; ++u) {
        const std::size_t m = u / P, q = u % P;
        if (R == 1) {
          const std::size_t k0 = q * kChunk;
          part[u] = pol.run(x + p.kept_off[m] + p.red_off[0] + k0, std::min(kChunk, K - k0), m);
        } else {
          Acc a = pol.init();
          for (std::size_t r = q * group; r < std::min(R, (q + 1) * group); ++r)
            a = pol.merge(a, pol.run(x + p.kept_off[m] + p.red_off[r], K, m));
          part[u] = a;
        }
      }
    });
    for (std::size_t m = 0; m < M; ++m) {
      Acc a = pol.init();
      for (std::size_t q = 0; q < P; ++q) a = pol.merge(a, part[m * P + q]);
      res[m] = a;
    }
    return res;
  }

  // Shape B: outputs in blocks of L; units = (row group, block, tile of the block).
  const std::size_t L = p.inner, ML = M * L, total = ML * R;
  const std::size_t tiles = (L + kTile - 1) / kTile, units = M * tiles;
  std::size_t groups = 1;
  if (units < 8 && R > 1 && total > 2 * kParallelGrain)
    groups = std::min(R, (total + kChunk - 1) / kChunk);
  const std::size_t gsize = (R + groups - 1) / groups;
  groups = (R + gsize - 1) / gsize;
  std::vector<Acc> part(groups * ML);
  const std::size_t grain =
      std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(1, gsize * std::min(L, kTile)));
  parallel_for(groups * units, grain, [&](std::size_t b, std::size_t e) {
    for (std::size_t u = b; u < e; ++u) {
      const std::size_t g = u / units, m = (u % units) / tiles, t = u % tiles;
      const std::size_t l0 = t * kTile, n = std::min(kTile, L - l0);
      Acc* a = part.data() + g * ML + m * L + l0;
      for (std::size_t i = 0; i < n; ++i) a[i] = pol.init();
      for (std::size_t r = g * gsize; r < std::min(R, (g + 1) * gsize); ++r)
        pol.col(a, x + p.kept_off[m] + p.red_off[r] + l0, n, m * L + l0);
    }
  });
  for (std::size_t g = 1; g < groups; ++g)
    for (std::size_t o = 0; o < ML; ++o) part[o] = pol.merge(part[o], part[g * ML + o]);
  part.resize(ML);
  return part;
}

// Sum (scale 1) or mean (scale 1/count).
template <typename T>
Tensor<T> sum_scaled(const Tensor<T>& x, const std::vector<bool>& mask, bool keepdim, bool mean) {
  const Plan p = make_plan(x.shape(), mask, keepdim);
  Tensor<T> out = Tensor<T>::empty(p.out_shape);
  const double scale = mean ? 1.0 / static_cast<double>(p.count) : 1.0;
  if (x.numel() == 0) {
    out.fill(mean ? std::numeric_limits<T>::quiet_NaN() : T(0));
    return out;
  }
  const std::vector<double> acc = reduce_acc(p, x.data(), SumPolicy<T>{});
  for (std::size_t o = 0; o < acc.size(); ++o) out[o] = static_cast<T>(acc[o] * scale);
  return out;
}

template <typename T>
Tensor<T> max_impl(const Tensor<T>& x, const std::vector<bool>& mask, bool keepdim,
                   std::vector<std::size_t>* index, const char* op) {
  const Plan p = make_plan(x.shape(), mask, keepdim);
  Tensor<T> out = Tensor<T>::empty(p.out_shape);
  if (x.numel() == 0) {
    if (out.numel() > 0)
      throw std::invalid_argument(std::string(op) + ": cannot reduce over zero elements (shape " +
                                  shape_str(x.shape()) + ")");
    if (index) index->clear();
    return out;
  }
  if (index) {
    const auto acc = reduce_acc(p, x.data(), MaxIndexPolicy<T>{x.data()});
    index->resize(acc.size());
    for (std::size_t o = 0; o < acc.size(); ++o) {
      out[o] = acc[o].v;
      (*index)[o] = acc[o].i;
    }
  } else {
    const auto acc = reduce_acc(p, x.data(), MaxPolicy<T>{});
    std::copy(acc.begin(), acc.end(), out.data());
  }
  return out;
}

template <typename T>
Tensor<T> logsumexp_impl(const Tensor<T>& x, const std::vector<bool>& mask, bool keepdim) {
  const Plan p = make_plan(x.shape(), mask, keepdim);
  Tensor<T> out = Tensor<T>::empty(p.out_shape);
  if (x.numel() == 0) {
    out.fill(-std::numeric_limits<T>::infinity());
    return out;
  }
  const auto mx = reduce_acc(p, x.data(), MaxPolicy<T>{});
  std::vector<double> shift(mx.size());
  for (std::size_t o = 0; o < mx.size(); ++o)
    shift[o] = std::isfinite(mx[o]) ? static_cast<double>(mx[o]) : 0.0;
  const auto acc = reduce_acc(p, x.data(), ExpSumPolicy<T>{shift.data()});
  // A max of +-inf or NaN is itself the answer (all -inf gives -inf; any +inf gives +inf).
  for (std::size_t o = 0; o < acc.size(); ++o)
    out[o] = std::isfinite(mx[o]) ? static_cast<T>(shift[o] + std::log(acc[o])) : mx[o];
  return out;
}

}  // namespace

Shape reduced_shape(const Shape& in_shape, const std::vector<int>& axes, bool keepdim) {
  return make_plan(in_shape, axis_mask(in_shape, axes, "reduced_shape"), keepdim).out_shape;
}

template <typename T>
Tensor<T> sum(const Tensor<T>& x) {
  if (reference_ops()) return reference::sum(x);
  return sum_scaled(x, all_mask(x.shape()), false, false);
}
template <typename T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  if (reference_ops()) return reference::sum(x, axes, keepdim);
  return sum_scaled(x, axis_mask(x.shape(), axes, "sum"), keepdim, false);
}
template <typename T>
Tensor<T> sum(const Tensor<T>& x, int axis, bool keepdim) {
  if (reference_ops()) return reference::sum(x, axis, keepdim);
  return sum(x, std::vector<int>{axis}, keepdim);
}

template <typename T>
Tensor<T> mean(const Tensor<T>& x) {
  if (reference_ops()) return reference::mean(x);
  return sum_scaled(x, all_mask(x.shape()), false, true);
}
template <typename T>
Tensor<T> mean(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  if (reference_ops()) return reference::mean(x, axes, keepdim);
  return sum_scaled(x, axis_mask(x.shape(), axes, "mean"), keepdim, true);
}
template <typename T>
Tensor<T> mean(const Tensor<T>& x, int axis, bool keepdim) {
  if (reference_ops()) return reference::mean(x, axis, keepdim);
  return mean(x, std::vector<int>{axis}, keepdim);
}

template <typename T>
Tensor<T> max(const Tensor<T>& x) {
  if (reference_ops()) return reference::max(x);
  return max_impl(x, all_mask(x.shape()), false, nullptr, "max");
}
template <typename T>
Tensor<T> max(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  if (reference_ops()) return reference::max(x, axes, keepdim);
  return max_impl(x, axis_mask(x.shape(), axes, "max"), keepdim, nullptr, "max");
}
template <typename T>
Tensor<T> max(const Tensor<T>& x, int axis, bool keepdim) {
  if (reference_ops()) return reference::max(x, axis, keepdim);
  return max(x, std::vector<int>{axis}, keepdim);
}

template <typename T>
Tensor<T> max_with_index(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim,
                         std::vector<std::size_t>& flat_index) {
  if (reference_ops()) return reference::max_with_index(x, axes, keepdim, flat_index);
  return max_impl(x, axis_mask(x.shape(), axes, "max"), keepdim, &flat_index, "max");
}

template <typename T>
Tensor<T> logsumexp(const Tensor<T>& x) {
  if (reference_ops()) return reference::logsumexp(x);
  return logsumexp_impl(x, all_mask(x.shape()), false);
}
template <typename T>
Tensor<T> logsumexp(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  if (reference_ops()) return reference::logsumexp(x, axes, keepdim);
  return logsumexp_impl(x, axis_mask(x.shape(), axes, "logsumexp"), keepdim);
}
template <typename T>
Tensor<T> logsumexp(const Tensor<T>& x, int axis, bool keepdim) {
  if (reference_ops()) return reference::logsumexp(x, axis, keepdim);
  return logsumexp(x, std::vector<int>{axis}, keepdim);
}

template <typename T>
std::vector<std::size_t> argmax(const Tensor<T>& x, int axis) {
  if (reference_ops()) return reference::argmax(x, axis);
  std::vector<std::size_t> flat;
  const std::vector<int> axes{axis};
  const std::vector<bool> mask = axis_mask(x.shape(), axes, "argmax");
  max_impl(x, mask, false, &flat, "argmax");
  const std::size_t a = normalize_axis(axis, x.dim());
  const std::size_t stride = row_major_strides(x.shape())[a];
  for (std::size_t& f : flat) f = (f / stride) % x.shape()[a];
  return flat;
}

template <typename T>
Tensor<T> expand_reduced(const Tensor<T>& g, const Shape& in_shape, const std::vector<int>& axes,
                         T scale) {
  if (reference_ops()) return reference::expand_reduced(g, in_shape, axes, scale);
  const std::vector<bool> mask = axis_mask(in_shape, axes, "expand_reduced");
  const Plan p = make_plan(in_shape, mask, true);
  if (shape_numel(g.shape()) != shape_numel(p.out_shape) ||
      (g.shape() != p.out_shape && g.shape() != make_plan(in_shape, mask, false).out_shape))
    throw std::invalid_argument("expand_reduced: a reduction of " + shape_str(in_shape) +
                                " over axes " + axes_str(axes) + " has shape " +
                                shape_str(p.out_shape) + " (or without the size-1 axes), got " +
                                shape_str(g.shape()));
  Tensor<T> out = Tensor<T>::empty(in_shape);
  if (out.numel() == 0) return out;
  const std::size_t M = p.kept_off.size(), R = p.red_off.size(), n = p.inner;
  const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(1, R * n));
  T* dst = out.data();
  const T* src = g.data();
  parallel_for(M, grain, [&](std::size_t b, std::size_t e) {
    for (std::size_t m = b; m < e; ++m)
      for (std::size_t r = 0; r < R; ++r) {
        T* d = dst + p.kept_off[m] + p.red_off[r];
        if (p.inner_reduced) {
          std::fill(d, d + n, scale * src[m]);
        } else {
          const T* s = src + m * n;
          for (std::size_t l = 0; l < n; ++l) d[l] = scale * s[l];
        }
      }
  });
  return out;
}

#define FZ_INSTANTIATE_REDUCE(T)                                                                  \
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

FZ_INSTANTIATE_REDUCE(float)
FZ_INSTANTIATE_REDUCE(double)

#undef FZ_INSTANTIATE_REDUCE

}  // namespace fz
