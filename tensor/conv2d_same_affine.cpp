// tensor/conv2d_same_affine.cpp — a "same" convolution with its fused per-output-channel
// epilogue y = act(s_o * conv(x', W) + t_o) (x' = relu(x) or x), forward and backward: the
// same-geometry path of tensor/conv2d_affine.hpp. See conv2d_same_planes.hpp for which file has
// what.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <xsimd/xsimd.hpp>

#include "tensor/conv2d_same.hpp"
#include "tensor/conv2d_same_epilogue.hpp"
#include "tensor/conv2d_same_gemm.hpp"
#include "tensor/conv2d_same_planes.hpp"
#include "tensor/elementwise.hpp"

namespace fz::detail {

using namespace same_conv;

// z = conv(x, W) and y = act(s_o * z + t_o) in one go; z kept in saved.z for the backward
// pass (the GEMM's output positions for k > 1, NCHW for 1x1).
template <typename T>
Tensor<T> conv2d_same_affine(const Tensor<T>& x, const Tensor<T>& weight,
                             const SameAffine<T>& affine, ConvAffineSaved<T>& saved,
                             bool keep_x_layout) {
  const T* scale = affine.scale;
  const T* shift = affine.shift;
  const bool relu = affine.relu, relu_input = affine.relu_input;
  Tensor<T>* z_saved = &saved.z;
  const Shape& xs = x.shape();
  const std::size_t N = xs[0], C = xs[1], Cout = weight.shape()[0];
  const Plane pl(N, xs[2], xs[3], weight.shape()[2]);
  const std::size_t hw = pl.H * pl.W;
  Tensor<T> y = Tensor<T>::empty({N, Cout, pl.H, pl.W});
  if (pl.k == 1) {
    // 1x1 reads x in place, so relu(x) needs its own copy.
    const Tensor<T> rectified = relu_input ? fz::relu(x) : Tensor<T>();
    const Tensor<T>& in = relu_input ? rectified : x;
    *z_saved = Tensor<T>::empty({N, Cout, pl.H, pl.W});
    conv1x1_per_image(false, weight.data(), Cout, C, in.data(), C * hw, hw, N, hw,
                      static_cast<const T*>(nullptr), z_saved->data());
    affine_out(nchw_rows(static_cast<const T*>(z_saved->data()), Cout, pl),
               nchw_rows(y.data(), Cout, pl), Cout, pl, scale, shift, relu);
    return y;
  }
  T* planes = input_planes(keep_x_layout ? &saved.x_layout : nullptr, C, pl);
  to_plane(x.data(), C, pl, planes, relu_input);
  // One spare vector at the end: affine_out reads whole vectors past the last row.
  *z_saved = Tensor<T>::empty({Cout * pl.Q + xsimd::batch<T>::size});
  std::fill(z_saved->data() + Cout * pl.Q, z_saved->data() + z_saved->numel(), T(0));
  conv_positions(static_cast<const T*>(planes), C, pl, weight.data(), Cout, z_saved->data());
  affine_out(position_rows(static_cast<const T*>(z_saved->data()), Cout, pl),
             nchw_rows(y.data(), Cout, pl), Cout, pl, scale, shift, relu);
  return y;
}

template <typename T>
void conv2d_same_affine_backward(const Tensor<T>& grad_y, const Tensor<T>& z_saved,
                                 const SameAffine<T>& affine, const SameConvBackward<T>& conv,
                                 T* dscale, T* dshift) {
  const Shape& xs = conv.x_shape;
  const Shape& ws = conv.weight_shape;
  const std::size_t N = xs[0], H = xs[2], W = xs[3], Cout = ws[0], k = ws[2];
  const Plane pl(N, H, W, k);
  const std::size_t expected = k == 1 ? N * Cout * H * W : Cout * pl.Q + xsimd::batch<T>::size;
  if (z_saved.numel() != expected)
    throw std::invalid_argument("conv2d_affine backward: the saved convolution output has " +
                                std::to_string(z_saved.numel()) + " values, expected " +
                                std::to_string(expected));
  T* dz = plane_scratch<T>(0, Cout * pl.len);
  const T* z = z_saved.data();
  affine_grad_planes(nchw_rows(grad_y.data(), Cout, pl),
                     k > 1 ? position_rows(z, Cout, pl) : nchw_rows(z, Cout, pl), Cout, pl,
                     affine.scale, affine.shift, affine.relu, dz, dscale, dshift);
  backward_from_dy_planes(static_cast<const T*>(dz), pl, conv, affine.relu_input);
}

#define FZ_INSTANTIATE_CONV_SAME_AFFINE(T)                                                  \
  template Tensor<T> conv2d_same_affine(const Tensor<T>&, const Tensor<T>&,                \
                                        const SameAffine<T>&, ConvAffineSaved<T>&, bool);   \
  template void conv2d_same_affine_backward(const Tensor<T>&, const Tensor<T>&,             \
                                            const SameAffine<T>&, const SameConvBackward<T>&, \
                                            T*, T*);
FZ_INSTANTIATE_CONV_SAME_AFFINE(float)
FZ_INSTANTIATE_CONV_SAME_AFFINE(double)
#undef FZ_INSTANTIATE_CONV_SAME_AFFINE

}  // namespace fz::detail
