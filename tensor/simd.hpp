// tensor/simd.hpp — small xsimd building blocks shared by the flat-buffer kernels (include it
// only from .cpp files): padded loads/stores for SIMD tails, a parallel elementwise map over
// any number of same-length inputs, a SIMD sum of a contiguous range, and the row-major
// counter that walks the outer axes of a collapsed BroadcastPlan.
//
// Tails go through a zero-padded batch instead of a scalar loop, so every kernel is written
// once, for batches, and an element's result does not depend on where it sits in the buffer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "parallel.hpp"

namespace fz {
namespace simd {

template <typename T>
using batch = xsimd::batch<T>;

template <typename T>
constexpr std::size_t width = xsimd::batch<T>::size;

// Loads k < width elements, the rest zero.
template <typename T>
inline batch<T> load_partial(const T* p, std::size_t k) {
  alignas(64) T buf[width<T>] = {};
  std::copy(p, p + k, buf);
  return batch<T>::load_aligned(buf);
}

// Stores the first k < width lanes.
template <typename T>
inline void store_partial(const batch<T>& v, T* p, std::size_t k) {
  alignas(64) T buf[width<T>];
  v.store_aligned(buf);
  std::copy(buf, buf + k, p);
}

// y[i] = f(xs[i]...) for i in [lo, hi), serial. f maps batches to a batch. y may alias an x.
template <typename T, typename F, typename... Ptrs>
inline void map_range(std::size_t lo, std::size_t hi, T* y, const F& f, const Ptrs*... xs) {
  constexpr std::size_t W = width<T>;
  std::size_t i = lo;
  for (; i + W <= hi; i += W) f(batch<T>::load_unaligned(xs + i)...).store_unaligned(y + i);
  if (i < hi) store_partial(f(load_partial(xs + i, hi - i)...), y + i, hi - i);
}

// y[i] = f(xs[i]...) for i in [0, n), split across threads above kParallelGrain.
template <typename T, typename F, typename... Ptrs>
inline void map(std::size_t n, T* y, const F& f, const Ptrs*... xs) {
  parallel_for(n, kParallelGrain,
               [&](std::size_t lo, std::size_t hi) { map_range(lo, hi, y, f, xs...); });
}

// Sum of p[0..n) with four SIMD accumulators, serial.
template <typename T>
inline T sum_range(const T* p, std::size_t n) {
  constexpr std::size_t W = width<T>;
  batch<T> s0(T(0)), s1(T(0)), s2(T(0)), s3(T(0));
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    s0 += batch<T>::load_unaligned(p + i);
    s1 += batch<T>::load_unaligned(p + i + W);
    s2 += batch<T>::load_unaligned(p + i + 2 * W);
    s3 += batch<T>::load_unaligned(p + i + 3 * W);
  }
  for (; i + W <= n; i += W) s0 += batch<T>::load_unaligned(p + i);
  if (i < n) s1 += load_partial(p + i, n - i);
  return xsimd::hadd((s0 + s1) + (s2 + s3));
}

// Row-major walk over the outer collapsed axes, tracking the offsets of two operands.
struct OuterCounter {
  std::vector<std::size_t> sizes, sa, sb, idx;
  std::size_t oa = 0, ob = 0;
  OuterCounter(const std::vector<std::size_t>& s, const std::vector<std::size_t>& a,
               const std::vector<std::size_t>& b, std::size_t d)
      : sizes(s.begin(), s.begin() + d), sa(a.begin(), a.begin() + d),
        sb(b.begin(), b.begin() + d), idx(d, 0) {}
  void seek(std::size_t row) {
    oa = ob = 0;
    for (std::size_t k = sizes.size(); k-- > 0;) {
      idx[k] = row % sizes[k];
      row /= sizes[k];
      oa += idx[k] * sa[k];
      ob += idx[k] * sb[k];
    }
  }
  void next() {
    for (std::size_t k = sizes.size(); k-- > 0;) {
      ++idx[k];
      oa += sa[k];
      ob += sb[k];
      if (idx[k] < sizes[k]) return;
      oa -= sa[k] * sizes[k];
      ob -= sb[k] * sizes[k];
      idx[k] = 0;
    }
  }
};

}  // namespace simd
}  // namespace fz
