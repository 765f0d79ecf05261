// tensor/scratch.hpp — growable, 64-byte aligned per-thread scratch buffers that kernels reuse
// across calls (no allocation per call). Each kernel passes its own Tag type, so the buffers of
// one kernel never alias another's while both are in use (conv2d holds its planes while GEMM
// packs into its own).
#pragma once

#include <cstddef>
#include <vector>

#include <xsimd/memory/xsimd_aligned_allocator.hpp>

namespace fz::detail {

// Buffer `which` (0 or 1) of this thread for (Tag, T), grown to at least n elements.
template <typename Tag, typename T>
T* thread_scratch(std::size_t which, std::size_t n) {
  thread_local std::vector<T, xsimd::aligned_allocator<T, 64>> buffers[2];
  auto& buf = buffers[which];
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

}  // namespace fz::detail
