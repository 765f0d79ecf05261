// tensor/conv2d_affine.cpp — convolution + per-channel affine (+ ReLU): the fused same-conv
// path, and the composed path for every other geometry (see conv2d_affine.hpp).
#include "tensor/conv2d_affine.hpp"

#include <stdexcept>
#include <string>

#include "tensor/conv2d.hpp"
#include "tensor/conv2d_same.hpp"

namespace fz {

namespace {

template <typename T>
void check_affine(const Tensor<T>& weight, const Tensor<T>& scale, const Tensor<T>& shift) {
  if (weight.dim() != 4)
    throw std::invalid_argument("conv2d_affine: weight must be (C_out, C_in, kh, kw), got " +
                                shape_str(weight.shape()));
  const Shape want{weight.shape()[0]};
  if (scale.shape() != want || shift.shape() != want)
    throw std::invalid_argument("conv2d_affine: scale and shift must both be (" +
                                std::to_string(want[0]) + "), got " + shape_str(scale.shape()) +
                                " and " + shape_str(shift.shape()));
}

template <typename T>
Tensor<T> rectified(const Tensor<T>& x) {
  Tensor<T> r = Tensor<T>::empty(x.shape());
  for (std::size_t i = 0; i < x.numel(); ++i) r[i] = x[i] > T(0) ? x[i] : T(0);
  return r;
}

}  // namespace

template <typename T>
Tensor<T> conv2d_affine(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& scale,
                        const Tensor<T>& shift, bool relu, std::size_t stride,
                        std::size_t padding, ConvAffineSaved<T>* saved, bool keep_x_layout,
                        bool relu_input) {
  check_affine(weight, scale, shift);
  ConvAffineSaved<T> local;
  ConvAffineSaved<T>& s = saved ? *saved : local;
  s.x_layout = Tensor<T>();
  if (detail::conv2d_is_same(weight.shape(), stride, padding)) {
    conv2d_output_shape(x.shape(), weight.shape(), stride, padding);  // validates the shapes
    return detail::conv2d_same_affine(x, weight, scale.data(), shift.data(), relu, &s.z,
                                      keep_x_layout ? &s.x_layout : nullptr, relu_input);
  }
  s.z = conv2d(relu_input ? rectified(x) : x, weight, Tensor<T>(), stride, padding,
               keep_x_layout ? &s.x_layout : nullptr);
  const std::size_t N = s.z.shape()[0], Cout = s.z.shape()[1];
  const std::size_t hw = s.z.shape()[2] * s.z.shape()[3];
  Tensor<T> y = Tensor<T>::empty(s.z.shape());
  for (std::size_t r = 0; r < N * Cout; ++r) {
    const T a = scale[r % Cout], b = shift[r % Cout];
    for (std::size_t i = r * hw; i < (r + 1) * hw; ++i) {
      const T v = s.z[i] * a + b;
      y[i] = relu && !(v > T(0)) ? T(0) : v;
    }
  }
  return y;
}

template <typename T>
ConvAffineGrads<T> conv2d_affine_backward(const Tensor<T>& grad_y, const Tensor<T>& x,
                                          const Tensor<T>& weight, const Tensor<T>& scale,
                                          const Tensor<T>& shift, bool relu, std::size_t stride,
                                          std::size_t padding, const ConvAffineSaved<T>& saved,
                                          bool need_input, bool need_weight, bool relu_input) {
  check_affine(weight, scale, shift);
  const Shape y_shape = conv2d_output_shape(x.shape(), weight.shape(), stride, padding);
  if (grad_y.shape() != y_shape)
    throw std::invalid_argument("conv2d_affine_backward: grad_y has shape " +
                                shape_str(grad_y.shape()) + ", expected " + shape_str(y_shape));
  const std::size_t Cout = weight.shape()[0];
  ConvAffineGrads<T> grads;
  grads.scale = Tensor<T>::empty({Cout});
  grads.shift = Tensor<T>::empty({Cout});
  if (detail::conv2d_is_same(weight.shape(), stride, padding)) {
    detail::conv2d_same_affine_backward(
        grad_y, saved.z, scale.data(), shift.data(), relu, &x, &weight, x.shape(), weight.shape(),
        need_input ? &grads.input : nullptr, need_weight ? &grads.weight : nullptr,
        grads.scale.data(), grads.shift.data(), &saved.x_layout, relu_input);
    return grads;
  }
  // dz = g * mask * scale_o;  dscale_o = sum g mask z;  dshift_o = sum g mask.
  const std::size_t N = y_shape[0], hw = y_shape[2] * y_shape[3];
  Tensor<T> dz = Tensor<T>::empty(y_shape);
  grads.scale.fill(T(0));
  grads.shift.fill(T(0));
  for (std::size_t r = 0; r < N * Cout; ++r) {
    const std::size_t o = r % Cout;
    for (std::size_t i = r * hw; i < (r + 1) * hw; ++i) {
      const T z = saved.z[i];
      const T gm = relu && !(z * scale[o] + shift[o] > T(0)) ? T(0) : grad_y[i];
      grads.scale[o] += gm * z;
      grads.shift[o] += gm;
      dz[i] = gm * scale[o];
    }
  }
  Conv2dGrads<T> conv = conv2d_backward(dz, relu_input ? rectified(x) : x, weight, stride,
                                        padding, need_input, need_weight, &saved.x_layout);
  grads.input = std::move(conv.input);
  if (relu_input && grads.input.defined())  // the ReLU in front passes gradient where x > 0
    for (std::size_t i = 0; i < x.numel(); ++i)
      if (!(x[i] > T(0))) grads.input[i] = T(0);
  grads.weight = std::move(conv.weight);
  return grads;
}

namespace {

// Both layers must be same convolutions that chain: x (N, C, H, W) -> (N, C1, H, W) -> C2.
template <typename T>
void check_pair(const Tensor<T>& x, const ConvAffineLayer<T>& a, const ConvAffineLayer<T>& b) {
  check_affine(a.weight, a.scale, a.shift);
  check_affine(b.weight, b.scale, b.shift);
  for (const Tensor<T>* w : {&a.weight, &b.weight}) {
    const std::size_t k = w->shape()[2];
    if (!detail::conv2d_is_same(w->shape(), 1, (k - 1) / 2))
      throw std::invalid_argument("conv2d_affine_pair: weights must be square with an odd kernel, "
                                  "got " + shape_str(w->shape()));
  }
  if (x.dim() != 4 || x.shape()[1] != a.weight.shape()[1] ||
      b.weight.shape()[1] != a.weight.shape()[0])
    throw std::invalid_argument("conv2d_affine_pair: input " + shape_str(x.shape()) +
                                ", first weight " + shape_str(a.weight.shape()) +
                                " and second weight " + shape_str(b.weight.shape()) +
                                " do not chain");
}

}  // namespace

template <typename T>
Tensor<T> conv2d_affine_pair(const Tensor<T>& x, bool relu_input, const ConvAffineLayer<T>& first,
                             const ConvAffineLayer<T>& second, ConvAffinePairSaved<T>* saved,
                             bool keep_x_layout) {
  check_pair(x, first, second);
  ConvAffinePairSaved<T> local;
  ConvAffinePairSaved<T>& s = saved ? *saved : local;
  s.x_layout = Tensor<T>();
  return detail::conv2d_same_affine_pair(
      x, relu_input, first.weight, first.scale.data(), first.shift.data(), first.relu,
      second.weight, second.scale.data(), second.shift.data(), second.relu, &s.z1,
      keep_x_layout ? &s.x_layout : nullptr, &s.h, &s.z2);
}

template <typename T>
ConvAffinePairGrads<T> conv2d_affine_pair_backward(const Tensor<T>& grad_y, const Tensor<T>& x,
                                                   bool relu_input,
                                                   const ConvAffineLayer<T>& first,
                                                   const ConvAffineLayer<T>& second,
                                                   const ConvAffinePairSaved<T>& saved,
                                                   bool need_input, bool need_weight1) {
  check_pair(x, first, second);
  const Shape y_shape{x.shape()[0], second.weight.shape()[0], x.shape()[2], x.shape()[3]};
  if (grad_y.shape() != y_shape)
    throw std::invalid_argument("conv2d_affine_pair_backward: grad_y has shape " +
                                shape_str(grad_y.shape()) + ", expected " + shape_str(y_shape));
  ConvAffinePairGrads<T> g;
  const Shape c1{first.weight.shape()[0]}, c2{second.weight.shape()[0]};
  g.scale1 = Tensor<T>::empty(c1);
  g.shift1 = Tensor<T>::empty(c1);
  g.scale2 = Tensor<T>::empty(c2);
  g.shift2 = Tensor<T>::empty(c2);
  detail::conv2d_same_affine_pair_backward(
      grad_y, x, relu_input, first.weight, first.scale.data(), first.shift.data(), first.relu,
      second.weight, second.scale.data(), second.shift.data(), second.relu, saved.z1,
      saved.x_layout.defined() ? &saved.x_layout : nullptr, saved.h, saved.z2,
      need_input ? &g.input : nullptr, need_weight1 ? &g.weight1 : nullptr, g.scale1.data(),
      g.shift1.data(), &g.weight2, g.scale2.data(), g.shift2.data());
  return g;
}

#define FZ_INSTANTIATE_CONV_AFFINE(T)                                                          \
  template Tensor<T> conv2d_affine(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,       \
                                   const Tensor<T>&, bool, std::size_t, std::size_t,            \
                                   ConvAffineSaved<T>*, bool, bool);                            \
  template ConvAffineGrads<T> conv2d_affine_backward(                                          \
      const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
      bool, std::size_t, std::size_t, const ConvAffineSaved<T>&, bool, bool, bool);          \
  template Tensor<T> conv2d_affine_pair(const Tensor<T>&, bool, const ConvAffineLayer<T>&,      \
                                        const ConvAffineLayer<T>&, ConvAffinePairSaved<T>*,     \
                                        bool);                                                  \
  template ConvAffinePairGrads<T> conv2d_affine_pair_backward(                                 \
      const Tensor<T>&, const Tensor<T>&, bool, const ConvAffineLayer<T>&,                      \
      const ConvAffineLayer<T>&, const ConvAffinePairSaved<T>&, bool, bool);
FZ_INSTANTIATE_CONV_AFFINE(float)
FZ_INSTANTIATE_CONV_AFFINE(double)
#undef FZ_INSTANTIATE_CONV_AFFINE

}  // namespace fz
