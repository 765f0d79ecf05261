// autograd/ops_keep_masked.cpp — keep_masked (one pass forward, one per input backward) and
// its plain form, where() with the mask broadcast.
#include "autograd/ops_keep_masked.hpp"

#include <stdexcept>
#include <string>

#include "autograd/ops_index.hpp"
#include "tensor/reference_mode.hpp"

namespace fz {

namespace {

void check_shapes(const Shape& x, const Shape& tau, const Shape& mask) {
  if (x.size() != 4 || tau != x || mask != Shape{1, 1, x[2], x[3]})
    throw std::invalid_argument("keep_masked: needs x and tau (B, C, H, W) and a (1, 1, H, W) mask, got " +
                                shape_str(x) + ", " + shape_str(tau) + ", " + shape_str(mask));
}

}  // namespace

template <typename T>
Var<T> keep_masked(const Var<T>& x, const Var<T>& tau, const Tensor<T>& mask) {
  if (reference_ops()) return keep_masked_reference(x, tau, mask);
  check_shapes(x.shape(), tau.shape(), mask.shape());
  const Shape& s = x.shape();
  const std::size_t planes = s[0] * s[1], hw = s[2] * s[3];
  Tensor<T> y = Tensor<T>::empty(s);
  const T* xv = x.value().data();
  const T* tv = tau.value().data();
  const T* mv = mask.data();
  for (std::size_t p = 0; p < planes; ++p)
    for (std::size_t i = 0; i < hw; ++i) y[p * hw + i] = mv[i] != T(0) ? xv[p * hw + i] : tv[p * hw + i];
  return record_op("keep_masked", std::move(y), {x, tau}, [x, tau, mask, planes, hw](const Tensor<T>& g) {
    const T* mv = mask.data();
    const T* gv = g.data();
    // d/dx = g on the mask, d/dtau = g off it.
    for (int to_x = 1; to_x >= 0; --to_x) {
      const Var<T>& target = to_x ? x : tau;
      if (!target.requires_grad()) continue;
      Tensor<T> d = Tensor<T>::empty(g.shape());
      for (std::size_t p = 0; p < planes; ++p)
        for (std::size_t i = 0; i < hw; ++i) d[p * hw + i] = (mv[i] != T(0)) == bool(to_x) ? gv[p * hw + i] : T(0);
      target.accumulate_grad(std::move(d));
    }
  });
}

template <typename T>
Var<T> keep_masked_reference(const Var<T>& x, const Var<T>& tau, const Tensor<T>& mask) {
  check_shapes(x.shape(), tau.shape(), mask.shape());
  return where(mask, x, tau);
}

template Var<float> keep_masked(const Var<float>&, const Var<float>&, const Tensor<float>&);
template Var<double> keep_masked(const Var<double>&, const Var<double>&, const Tensor<double>&);
template Var<float> keep_masked_reference(const Var<float>&, const Var<float>&, const Tensor<float>&);
template Var<double> keep_masked_reference(const Var<double>&, const Var<double>&, const Tensor<double>&);

}  // namespace fz
