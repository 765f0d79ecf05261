// autograd/ops_channel_affine.cpp — channel_affine and channel_affine_relu over the kernels of
// tensor/channel_affine.hpp, each followed by its plain form from primitive ops.
#include "autograd/ops_channel_affine.hpp"

#include <utility>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "tensor/channel_affine.hpp"
#include "tensor/reference_mode.hpp"

namespace fz {

namespace {

// The op shared by channel_affine and channel_affine_relu: the forward kernel now, the backward
// kernel in the closure (it reads x, scale and shift; y is not kept).
template <typename T>
Var<T> record_channel_affine(const char* op, const Var<T>& x, const Var<T>& scale,
                             const Var<T>& shift, ChannelAffineOptions options) {
  check_channel_affine_shapes(x.shape(), scale.shape(), shift.shape(), op);
  Tensor<T> y = channel_affine_forward(x.value(), scale.value(), shift.value(), options);
  return record_op(op, std::move(y), {x, scale, shift}, [x, scale, shift, options](const Tensor<T>& g) {
    ChannelAffineGradsWanted wanted;
    wanted.input = x.requires_grad();
    wanted.scale = scale.requires_grad();
    wanted.shift = shift.requires_grad();
    ChannelAffineGrads<T> grads =
        channel_affine_backward(g, x.value(), scale.value(), shift.value(), options, wanted);
    if (wanted.input) x.accumulate_grad(std::move(grads.input));
    if (wanted.scale) scale.accumulate_grad(std::move(grads.scale));
    if (wanted.shift) shift.accumulate_grad(std::move(grads.shift));
  });
}

}  // namespace

Shape channel_broadcast_shape(const Shape& x, std::size_t channels) {
  Shape s(x.size(), 1);
  s[1] = channels;
  return s;
}

template <typename T>
Var<T> channel_affine(const Var<T>& x, const Var<T>& scale, const Var<T>& shift) {
  if (reference_ops()) return channel_affine_reference(x, scale, shift);
  return record_channel_affine("channel_affine", x, scale, shift, ChannelAffineOptions{});
}

// Unfused, the tape would hold three activation-sized tensors (the input, the affine output,
// the ReLU output) and the backward would make two passes; fused it holds the input and the
// output and makes one.
template <typename T>
Var<T> channel_affine_relu(const Var<T>& x, const Var<T>& scale, const Var<T>& shift) {
  if (reference_ops()) return channel_affine_relu_reference(x, scale, shift);
  ChannelAffineOptions options;
  options.relu = true;
  return record_channel_affine("channel_affine_relu", x, scale, shift, options);
}

template <typename T>
Var<T> channel_affine_reference(const Var<T>& x, const Var<T>& scale, const Var<T>& shift) {
  check_channel_affine_shapes(x.shape(), scale.shape(), shift.shape(), "channel_affine");
  const Shape per_channel = channel_broadcast_shape(x.shape(), scale.shape()[0]);
  return x * reshape(scale, per_channel) + reshape(shift, per_channel);
}

template <typename T>
Var<T> channel_affine_relu_reference(const Var<T>& x, const Var<T>& scale, const Var<T>& shift) {
  check_channel_affine_shapes(x.shape(), scale.shape(), shift.shape(), "channel_affine_relu");
  return relu(channel_affine_reference(x, scale, shift));
}

#define FZ_CHANNEL_AFFINE_INSTANTIATE(T)                                                      \
  template Var<T> channel_affine(const Var<T>&, const Var<T>&, const Var<T>&);                \
  template Var<T> channel_affine_relu(const Var<T>&, const Var<T>&, const Var<T>&);           \
  template Var<T> channel_affine_reference(const Var<T>&, const Var<T>&, const Var<T>&);      \
  template Var<T> channel_affine_relu_reference(const Var<T>&, const Var<T>&, const Var<T>&);
FZ_CHANNEL_AFFINE_INSTANTIATE(float)
FZ_CHANNEL_AFFINE_INSTANTIATE(double)
#undef FZ_CHANNEL_AFFINE_INSTANTIATE

}  // namespace fz
