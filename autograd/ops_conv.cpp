// autograd/ops_conv.cpp — conv2d, conv2d_affine and conv2d_affine_chain as differentiable ops
// over the tensor-level kernels, and the plain forms of the two fused ops from primitive ops.
#include "autograd/ops_conv.hpp"

#include <memory>
#include <stdexcept>

#include "autograd/grad_mode.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "tensor/conv2d.hpp"
#include "tensor/conv2d_affine.hpp"
#include "tensor/reference_mode.hpp"

namespace fz {

// y = conv2d(x, w) + b;  dL/dx = conv2d_backward_input(G, w) (a transposed convolution),
// dL/dw = conv2d_backward_weight(G, x) (input patches correlated with G), dL/db = sum of G
// over batch and space. When the weight will need its gradient, the forward pass keeps the
// input in the layout its GEMM read (tensor/conv2d.hpp, saved_input), so the backward pass
// does not lay x out a second time.
template <typename T>
Var<T> conv2d(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, std::size_t stride,
              std::size_t padding) {
  const bool keep_layout = GradMode::enabled() && weight.requires_grad();
  Tensor<T> saved_input;
  Tensor<T> y = conv2d(x.value(), weight.value(), bias.defined() ? bias.value() : Tensor<T>(),
                       stride, padding, keep_layout ? &saved_input : nullptr);
  return record_op("conv2d", y, {x, weight, bias},
                   [x, weight, bias, stride, padding, saved_input](const Tensor<T>& g) {
                     Conv2dGrads<T> grads =
                         conv2d_backward(g, x.value(), weight.value(), stride, padding,
                                         {/*input=*/x.requires_grad(),
                                          /*weight=*/weight.requires_grad()},
                                         &saved_input);
                     if (x.requires_grad()) x.accumulate_grad(std::move(grads.input));
                     if (weight.requires_grad()) weight.accumulate_grad(std::move(grads.weight));
                     if (bias.requires_grad()) bias.accumulate_grad(conv2d_backward_bias(g));
                   });
}

// The backward pass gets dL/dscale, dL/dshift and the convolution's dL/dz in the same pass over
// dL/dy (conv2d_affine_backward); the forward pass saves z (needed for dL/dscale and the ReLU
// mask) and, when the weight needs its gradient, the input's GEMM layout.
template <typename T>
Var<T> conv2d_affine(const Var<T>& x, const Var<T>& weight, const Var<T>& scale,
                     const Var<T>& shift, bool relu, std::size_t stride, std::size_t padding,
                     bool relu_input) {
  if (reference_ops())
    return conv2d_affine_reference(x, weight, scale, shift, relu, stride, padding, relu_input);
  const bool keep_layout = GradMode::enabled() && weight.requires_grad();
  auto saved = std::make_shared<ConvAffineSaved<T>>();
  ConvAffineOptions options;
  options.relu = relu;
  options.relu_input = relu_input;
  options.stride = stride;
  options.padding = padding;
  Tensor<T> y = conv2d_affine(x.value(), weight.value(), scale.value(), shift.value(), options,
                              saved.get(), keep_layout);
  const char* name = relu_input ? (relu ? "relu_conv2d_affine_relu" : "relu_conv2d_affine")
                                : (relu ? "conv2d_affine_relu" : "conv2d_affine");
  return record_op(name, y, {x, weight, scale, shift},
                   [x, weight, scale, shift, options, saved](const Tensor<T>& g) {
                     ConvAffineGrads<T> grads = conv2d_affine_backward(
                         g, x.value(), weight.value(), scale.value(), shift.value(), options,
                         *saved,
                         {/*input=*/x.requires_grad(), /*weight=*/weight.requires_grad()});
                     if (x.requires_grad()) x.accumulate_grad(std::move(grads.input));
                     if (weight.requires_grad()) weight.accumulate_grad(std::move(grads.weight));
                     if (scale.requires_grad()) scale.accumulate_grad(std::move(grads.scale));
                     if (shift.requires_grad()) shift.accumulate_grad(std::move(grads.shift));
                   });
}

namespace {
// The tensor-level view of the layers (references to the Vars' values).
template <typename T>
std::vector<ConvAffineLayer<T>> layer_values(const std::vector<ConvAffineVars<T>>& layers) {
  std::vector<ConvAffineLayer<T>> out;
  for (const ConvAffineVars<T>& l : layers)
    out.push_back({l.weight.value(), l.scale.value(), l.shift.value(), l.relu});
  return out;
}
}  // namespace

template <typename T>
Var<T> conv2d_affine_chain(const Var<T>& x, bool relu_input,
                           const std::vector<ConvAffineVars<T>>& layers) {
  if (layers.empty()) throw std::invalid_argument("conv2d_affine_chain: no layers");
  if (reference_ops()) return conv2d_affine_chain_reference(x, relu_input, layers);
  const bool keep_layout = GradMode::enabled() && layers[0].weight.requires_grad();
  auto saved = std::make_shared<ConvAffineChainSaved<T>>();
  Tensor<T> y = conv2d_affine_chain(x.value(), relu_input, layer_values(layers), saved.get(),
                                    keep_layout);
  std::vector<Var<T>> inputs{x};
  for (const ConvAffineVars<T>& l : layers) {
    inputs.push_back(l.weight);
    inputs.push_back(l.scale);
    inputs.push_back(l.shift);
  }
  return record_op("conv2d_affine_chain", y, inputs,
                   [x, relu_input, layers, saved](const Tensor<T>& g) {
                     ConvAffineChainGrads<T> grads = conv2d_affine_chain_backward(
                         g, x.value(), relu_input, layer_values(layers), *saved,
                         {/*input=*/x.requires_grad(),
                          /*weight=*/layers[0].weight.requires_grad()});
                     if (x.requires_grad()) x.accumulate_grad(std::move(grads.input));
                     for (std::size_t i = 0; i < layers.size(); ++i) {
                       const ConvAffineVars<T>& l = layers[i];
                       if (l.weight.requires_grad())
                         l.weight.accumulate_grad(std::move(grads.weight[i]));
                       if (l.scale.requires_grad()) l.scale.accumulate_grad(std::move(grads.scale[i]));
                       if (l.shift.requires_grad()) l.shift.accumulate_grad(std::move(grads.shift[i]));
                     }
                   });
}

// ---- the plain forms -------------------------------------------------------------------------

template <typename T>
Var<T> conv2d_affine_reference(const Var<T>& x, const Var<T>& weight, const Var<T>& scale,
                               const Var<T>& shift, bool relu, std::size_t stride,
                               std::size_t padding, bool relu_input) {
  const Var<T> input = relu_input ? fz::relu(x) : x;
  const Var<T> z = conv2d(input, weight, Var<T>(), stride, padding);
  if (scale.dim() != 1 || shift.shape() != scale.shape() || z.shape()[1] != scale.shape()[0])
    throw std::invalid_argument("conv2d_affine: scale and shift must both be (" +
                                std::to_string(z.shape()[1]) + "), got " +
                                shape_str(scale.shape()) + " and " + shape_str(shift.shape()));
  const Shape per_channel = {1, scale.shape()[0], 1, 1};
  const Var<T> y = z * reshape(scale, per_channel) + reshape(shift, per_channel);
  return relu ? fz::relu(y) : y;
}

template <typename T>
Var<T> conv2d_affine_chain_reference(const Var<T>& x, bool relu_input,
                                     const std::vector<ConvAffineVars<T>>& layers) {
  check_conv2d_affine_chain(x.value(), layer_values(layers));  // the fused op's checks and messages
  Var<T> h = x;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const ConvAffineVars<T>& l = layers[i];
    const std::size_t same_padding = (l.weight.shape()[2] - 1) / 2;
    h = conv2d_affine_reference(h, l.weight, l.scale, l.shift, l.relu, 1, same_padding,
                                /*relu_input=*/i == 0 && relu_input);
  }
  return h;
}

template Var<float> conv2d(const Var<float>&, const Var<float>&, const Var<float>&, std::size_t,
                           std::size_t);
template Var<double> conv2d(const Var<double>&, const Var<double>&, const Var<double>&,
                            std::size_t, std::size_t);
template Var<float> conv2d_affine(const Var<float>&, const Var<float>&, const Var<float>&,
                                  const Var<float>&, bool, std::size_t, std::size_t, bool);
template Var<double> conv2d_affine(const Var<double>&, const Var<double>&, const Var<double>&,
                                   const Var<double>&, bool, std::size_t, std::size_t, bool);
template Var<float> conv2d_affine_chain(const Var<float>&, bool,
                                        const std::vector<ConvAffineVars<float>>&);
template Var<double> conv2d_affine_chain(const Var<double>&, bool,
                                         const std::vector<ConvAffineVars<double>>&);
template Var<float> conv2d_affine_reference(const Var<float>&, const Var<float>&,
                                            const Var<float>&, const Var<float>&, bool,
                                            std::size_t, std::size_t, bool);
template Var<double> conv2d_affine_reference(const Var<double>&, const Var<double>&,
                                             const Var<double>&, const Var<double>&, bool,
                                             std::size_t, std::size_t, bool);
template Var<float> conv2d_affine_chain_reference(const Var<float>&, bool,
                                                  const std::vector<ConvAffineVars<float>>&);
template Var<double> conv2d_affine_chain_reference(const Var<double>&, bool,
                                                   const std::vector<ConvAffineVars<double>>&);

}  // namespace fz
