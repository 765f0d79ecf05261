// tensor/conv2d_same.cpp — "same" convolutions (odd k, stride 1, padding (k-1)/2) as one GEMM
// over the whole batch, reading the input's shifted rows in place: conv2d_same and
// conv2d_same_backward. See conv2d_same.hpp for the plane layout and why it needs no im2col.
//
// Which file has what (all in tensor/, namespace fz::detail; the same_conv namespace is internal):
//   conv2d_same.hpp           the entry points and the layout they share (read it first)
//   conv2d_same_planes.hpp    the plane layout (Plane) and the copies into and out of it
//   conv2d_same_gemm.hpp      the products over planes: forward positions, 1x1 per image,
//                             both gradients from dY in plane layout
//   conv2d_same_epilogue.hpp  the fused per-channel affine (+ ReLU) epilogue and its gradient
//   conv2d_same.cpp           conv2d_same, conv2d_same_backward
//   conv2d_same_affine.cpp    conv2d_same_affine and its backward
//   conv2d_same_chain.cpp     conv2d_same_affine_chain and its backward (with the flat
//                             epilogues between the layers of a chain)
#include "tensor/conv2d_same.hpp"

#include <cstddef>

#include "tensor/conv2d_same_gemm.hpp"
#include "tensor/conv2d_same_planes.hpp"

namespace fz::detail {

using namespace same_conv;

bool conv2d_is_same(const Shape& weight_shape, std::size_t stride, std::size_t padding) {
  if (weight_shape.size() != 4) return false;
  const std::size_t k = weight_shape[2];
  return stride == 1 && k == weight_shape[3] && k % 2 == 1 && padding == (k - 1) / 2;
}

template <typename T>
Tensor<T> conv2d_same(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                      Tensor<T>* keep_planes) {
  const Shape& xs = x.shape();
  const std::size_t N = xs[0], C = xs[1], Cout = weight.shape()[0];
  const Plane pl(N, xs[2], xs[3], weight.shape()[2]);
  if (pl.k == 1) {
    Tensor<T> y = Tensor<T>::empty({N, Cout, xs[2], xs[3]});
    conv1x1_per_image(false, weight.data(), Cout, C, x.data(), C * pl.H * pl.W, pl.H * pl.W, N,
                      pl.H * pl.W, bias.defined() ? bias.data() : nullptr, y.data());
    return y;
  }
  T* planes = input_planes(keep_planes, C, pl);
  to_plane(x.data(), C, pl, planes);
  Tensor<T> y = Tensor<T>::empty({N, Cout, xs[2], xs[3]});
  T* Y = plane_scratch<T>(1, Cout * pl.Q);
  conv_positions(static_cast<const T*>(planes), C, pl, weight.data(), Cout, Y);
  from_positions(static_cast<const T*>(Y), bias.defined() ? bias.data() : nullptr, Cout, pl,
                 y.data());
  return y;
}

// Both gradients from one plane layout of dY (see backward_from_dy_planes).
template <typename T>
void conv2d_same_backward(const Tensor<T>& grad_out, const SameConvBackward<T>& b) {
  const Shape& xs = b.x_shape;
  const Shape& ws = b.weight_shape;
  const Tensor<T>* weight = b.weight;
  Tensor<T>* dx = b.dx;
  Tensor<T>* dw = b.dw;
  const std::size_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const std::size_t Cout = ws[0], k = ws[2];
  if (k == 1 && dx && !dw) {  // 1x1, input gradient only: straight from grad_out, no plane
    *dx = Tensor<T>::empty(xs);
    conv1x1_per_image(true, weight->data(), Cout, C, grad_out.data(), Cout * H * W, H * W, N,
                      H * W, static_cast<const T*>(nullptr), dx->data());
    return;
  }
  if (!dx && !dw) return;
  const Plane pl(N, H, W, k);
  T* dy = plane_scratch<T>(0, Cout * pl.len);
  to_plane(grad_out.data(), Cout, pl, dy);
  backward_from_dy_planes(static_cast<const T*>(dy), pl, b);
}

#define FZ_INSTANTIATE_CONV_SAME(T)                                                         \
  template Tensor<T> conv2d_same(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,      \
                                 Tensor<T>*);                                                \
  template void conv2d_same_backward(const Tensor<T>&, const SameConvBackward<T>&);
FZ_INSTANTIATE_CONV_SAME(float)
FZ_INSTANTIATE_CONV_SAME(double)
#undef FZ_INSTANTIATE_CONV_SAME

}  // namespace fz::detail
