// tensor/copy_run.hpp — copying a run of contiguous values, the inner loop of the channel
// gathers and scatters (autograd/ops_select_channels.cpp, autograd/ops_affine_coupling.cpp).
#pragma once

#include <algorithm>
#include <cstddef>

namespace fz {

// dst[0..n) = src[0..n). The 2-D toys copy runs of one element, where a memmove call per
// element would cost more than the whole op's arithmetic.
template <typename T>
inline void copy_run(const T* src, std::size_t n, T* dst) {
  if (n == 1)
    *dst = *src;
  else
    std::copy(src, src + n, dst);
}

}  // namespace fz
