// tests/tensor_compare.hpp — the elementwise comparisons the equality tests use (fused vs plain
// forms, with vs without gradients, kernels vs references), accumulated in double.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "tensor/tensor.hpp"

namespace fz::test {

// max |a_i|.
template <typename T>
double max_abs(const Tensor<T>& a) {
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(double(a[i])));
  return m;
}

// max |a_i - b_i|; REQUIREs equal shapes.
template <typename T>
double max_diff(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

}  // namespace fz::test
