// tensor/conv2d_affine.cpp — convolution + per-channel affine (+ ReLU): the fused same-conv
// path, and the composed path for every other geometry (see conv2d_affine.hpp).
#include "tensor/conv2d_affine.hpp"

#include <stdexcept>
#include <string>

#include "tensor/conv2d.hpp"
#include "tensor/conv2d_same.hpp"
#include "tensor/elementwise.hpp"

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

}  // namespace

template <typename T>
Tensor<T> conv2d_affine(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& scale,
                        const Tensor<T>& shift, const ConvAffineOptions& options,
                        ConvAffineSaved<T>* saved, bool keep_x_layout) {
  const bool relu = options.relu, relu_input = options.relu_input;
  const std::size_t stride = options.stride, padding = options.padding;
  check_affine(weight, scale, shift);
  ConvAffineSaved<T> local;
  ConvAffineSaved<T>& s = saved ? *saved : local;
  s.x_layout = Tensor<T>();
  if (detail::conv2d_is_same(weight.shape(), stride, padding)) {
    conv2d_output_shape(x.shape(), weight.shape(), stride, padding);  // validates the shapes
    detail::SameAffine<T> affine;
    affine.scale = scale.data();
    affine.shift = shift.data();
    affine.relu = relu;
    affine.relu_input = relu_input;
    return detail::conv2d_same_affine(x, weight, affine, s, keep_x_layout);
  }
  s.z = conv2d(relu_input ? fz::relu(x) : x, weight, Tensor<T>(), stride, padding,
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
                                          const Tensor<T>& shift,
                                          const ConvAffineOptions& options,
                                          const ConvAffineSaved<T>& saved,
                                          ConvGradsWanted wanted) {
  const bool relu = options.relu, relu_input = options.relu_input;
  const std::size_t stride = options.stride, padding = options.padding;
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
    detail::SameAffine<T> affine;
    affine.scale = scale.data();
    affine.shift = shift.data();
    affine.relu = relu;
    affine.relu_input = relu_input;
    detail::SameConvBackward<T> conv;
    conv.x_shape = x.shape();
    conv.weight_shape = weight.shape();
    conv.x = &x;
    conv.weight = &weight;
    conv.x_planes = &saved.x_layout;
    conv.dx = wanted.input ? &grads.input : nullptr;
    conv.dw = wanted.weight ? &grads.weight : nullptr;
    detail::conv2d_same_affine_backward(grad_y, saved.z, affine, conv, grads.scale.data(),
                                        grads.shift.data());
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
  Conv2dGrads<T> conv = conv2d_backward(dz, relu_input ? fz::relu(x) : x, weight, stride,
                                        padding, wanted, &saved.x_layout);
  grads.input = std::move(conv.input);
  if (relu_input && grads.input.defined())  // the ReLU in front passes gradient where x > 0
    for (std::size_t i = 0; i < x.numel(); ++i)
      if (!(x[i] > T(0))) grads.input[i] = T(0);
  grads.weight = std::move(conv.weight);
  return grads;
}

namespace {

// Every layer a same convolution, each taking the previous one's channels; the detail form.
template <typename T>
std::vector<detail::ChainLayer<T>> check_chain(const Tensor<T>& x,
                                               const std::vector<ConvAffineLayer<T>>& layers) {
  if (layers.empty()) throw std::invalid_argument("conv2d_affine_chain: no layers");
  if (x.dim() != 4)
    throw std::invalid_argument("conv2d_affine_chain: input must be (N, C, H, W), got " +
                                shape_str(x.shape()));
  std::vector<detail::ChainLayer<T>> out;
  std::size_t channels = x.shape()[1];
  for (const ConvAffineLayer<T>& l : layers) {
    check_affine(l.weight, l.scale, l.shift);
    const Shape& ws = l.weight.shape();
    if (!detail::conv2d_is_same(ws, 1, (ws[2] - 1) / 2))
      throw std::invalid_argument("conv2d_affine_chain: weights must be square with an odd "
                                  "kernel, got " + shape_str(ws));
    if (ws[1] != channels)
      throw std::invalid_argument("conv2d_affine_chain: a layer with weight " + shape_str(ws) +
                                  " gets " + std::to_string(channels) +
                                  " input channels: the layers do not chain");
    channels = ws[0];
    out.push_back({&l.weight, l.scale.data(), l.shift.data(), l.relu});
  }
  return out;
}

}  // namespace

template <typename T>
Tensor<T> conv2d_affine_chain(const Tensor<T>& x, bool relu_input,
                              const std::vector<ConvAffineLayer<T>>& layers,
                              ConvAffineChainSaved<T>* saved, bool keep_x_layout) {
  const std::vector<detail::ChainLayer<T>> chain = check_chain(x, layers);
  ConvAffineChainSaved<T> local;
  ConvAffineChainSaved<T>& s = saved ? *saved : local;
  s.x_layout = Tensor<T>();
  return detail::conv2d_same_affine_chain(x, relu_input, chain, s, keep_x_layout);
}

template <typename T>
ConvAffineChainGrads<T> conv2d_affine_chain_backward(
    const Tensor<T>& grad_y, const Tensor<T>& x, bool relu_input,
    const std::vector<ConvAffineLayer<T>>& layers, const ConvAffineChainSaved<T>& saved,
    ConvGradsWanted wanted) {
  const std::vector<detail::ChainLayer<T>> chain = check_chain(x, layers);
  const Shape y_shape{x.shape()[0], layers.back().weight.shape()[0], x.shape()[2], x.shape()[3]};
  if (grad_y.shape() != y_shape)
    throw std::invalid_argument("conv2d_affine_chain_backward: grad_y has shape " +
                                shape_str(grad_y.shape()) + ", expected " + shape_str(y_shape));
  if (saved.z.size() != layers.size() || saved.h.size() != layers.size())
    throw std::invalid_argument("conv2d_affine_chain_backward: saved state is for " +
                                std::to_string(saved.z.size()) + " layers, not " +
                                std::to_string(layers.size()));
  std::vector<detail::ChainGrads<T>> per(layers.size());
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Shape c{layers[i].weight.shape()[0]};
    per[i].scale = Tensor<T>::empty(c);
    per[i].shift = Tensor<T>::empty(c);
  }
  per[0].weight_wanted = wanted.weight;
  ConvAffineChainGrads<T> g;
  detail::conv2d_same_affine_chain_backward(grad_y, x, relu_input, chain, saved,
                                            wanted.input ? &g.input : nullptr, per);
  for (auto& p : per) {
    g.weight.push_back(std::move(p.weight));
    g.scale.push_back(std::move(p.scale));
    g.shift.push_back(std::move(p.shift));
  }
  return g;
}

template <typename T>
void check_conv2d_affine_chain(const Tensor<T>& x, const std::vector<ConvAffineLayer<T>>& layers) {
  check_chain(x, layers);
}

#define FZ_INSTANTIATE_CONV_AFFINE(T)                                                          \
  template Tensor<T> conv2d_affine(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,       \
                                   const Tensor<T>&, const ConvAffineOptions&,                  \
                                   ConvAffineSaved<T>*, bool);                                  \
  template ConvAffineGrads<T> conv2d_affine_backward(                                          \
      const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, \
      const ConvAffineOptions&, const ConvAffineSaved<T>&, ConvGradsWanted);                    \
  template void check_conv2d_affine_chain(const Tensor<T>&, const std::vector<ConvAffineLayer<T>>&); \
  template Tensor<T> conv2d_affine_chain(const Tensor<T>&, bool,                             \
                                         const std::vector<ConvAffineLayer<T>>&,                \
                                         ConvAffineChainSaved<T>*, bool);                       \
  template ConvAffineChainGrads<T> conv2d_affine_chain_backward(                               \
      const Tensor<T>&, const Tensor<T>&, bool, const std::vector<ConvAffineLayer<T>>&,         \
      const ConvAffineChainSaved<T>&, ConvGradsWanted);
FZ_INSTANTIATE_CONV_AFFINE(float)
FZ_INSTANTIATE_CONV_AFFINE(double)
#undef FZ_INSTANTIATE_CONV_AFFINE

}  // namespace fz
