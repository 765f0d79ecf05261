// flows/conditioners/gated_resnet.cpp — Flow++'s gated residual conditioner from Conv2d layers
// and elementwise, reduction, matmul and softmax ops (see the header).
#include "flows/conditioners/gated_resnet.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops.hpp"

namespace fz {

template <typename T>
Var<T> concat_elu(const Var<T>& x) {
  return elu(concat({x, neg(x)}, 1), T(1));
}

template <typename T>
Var<T> channel_layer_norm(const Var<T>& x, const Var<T>& gain, const Var<T>& bias) {
  if (x.dim() != 4 || gain.shape() != Shape{x.shape()[1]} || bias.shape() != gain.shape())
    throw std::invalid_argument("channel_layer_norm: expected x (B, C, H, W) and gain, bias (C), got " +
                                shape_str(x.shape()) + ", " + shape_str(gain.shape()) + ", " + shape_str(bias.shape()));
  const Shape per_channel = {1, x.shape()[1], 1, 1};
  const Var<T> centred = x - mean(x, 1, /*keepdim=*/true);
  const Var<T> inv_sd = rdiv_scalar(T(1), sqrt(mean(square(centred), 1, /*keepdim=*/true) + T(1e-5)));
  return centred * inv_sd * reshape(gain, per_channel) + reshape(bias, per_channel);
}

template <typename T>
Var<T> gated_linear_unit(const Var<T>& x) {
  const std::vector<Var<T>> halves = chunk(x, 2, 1);
  return halves[0] * sigmoid(halves[1]);
}

template <typename T>
Var<T> multi_head_attention(const Var<T>& qkv, std::size_t heads) {
  if (qkv.dim() != 4 || heads == 0 || qkv.shape()[1] % (3 * heads) != 0)
    throw std::invalid_argument("multi_head_attention: expected (B, 3F, H, W) with F divisible by " +
                                std::to_string(heads) + " heads, got " + shape_str(qkv.shape()));
  const std::size_t b = qkv.shape()[0], f = qkv.shape()[1] / 3, h = qkv.shape()[2], w = qkv.shape()[3];
  const std::size_t d = f / heads, positions = h * w;
  // Head j holds channels [j d, (j + 1) d) of q, k and v: (B, F, H, W) -> (B heads, d, H W).
  const std::vector<Var<T>> parts = chunk(qkv, 3, 1);
  auto per_head = [&](const Var<T>& v) { return reshape(v, {b * heads, d, positions}); };
  const Var<T> q = per_head(parts[0]), k = per_head(parts[1]), v = per_head(parts[2]);
  // scores[i][j] = q_i . k_j / sqrt(d): (B heads, HW, HW), softmax over the keys j.
  const Var<T> scores = matmul(transpose(q, 1, 2), k) * T(1.0 / std::sqrt(double(d)));
  const Var<T> weights = softmax(scores, 2);
  // out[:, i] = sum_j v[:, j] weights[i][j].
  return reshape(matmul(v, transpose(weights, 1, 2)), {b, f, h, w});
}

namespace {

template <typename T>
std::shared_ptr<Conv2d<T>> gated_conv(std::size_t in, std::size_t out, std::size_t kernel, bool weight_norm,
                                      bool zero, Rng& rng) {
  Conv2dOptions o;
  o.kernel_size = kernel;
  o.padding = kernel / 2;
  o.weight_norm = weight_norm;
  o.init = zero ? Conv2dInit::Zeros : Conv2dInit::Default;
  return std::make_shared<Conv2d<T>>(in, out, rng, o);
}

template <typename T>
Tensor<T> filled(std::size_t n, T value) {
  Tensor<T> t({n});
  for (std::size_t i = 0; i < n; ++i) t[i] = value;
  return t;
}

}  // namespace

template <typename T>
GatedResNetConditioner<T>::GatedResNetConditioner(std::size_t in_channels, std::size_t out_channels,
                                                  const GatedResNetOptions& options, Rng& rng)
    : in_channels_(in_channels), options_(options) {
  const std::size_t f = options.features;
  if (in_channels == 0 || out_channels == 0 || f == 0 || options.blocks == 0)
    throw std::invalid_argument("GatedResNetConditioner: channels, features and blocks must be positive, got " +
                                std::to_string(in_channels) + " -> " + std::to_string(f) + " x " +
                                std::to_string(options.blocks) + " -> " + std::to_string(out_channels));
  const std::size_t heads = options.attention_heads;
  if (heads > 0 && (f % heads != 0 || options.height == 0 || options.width == 0))
    throw std::invalid_argument("GatedResNetConditioner: attention needs heads (" + std::to_string(heads) +
                                ") dividing the features (" + std::to_string(f) + ") and the image size, got " +
                                std::to_string(options.height) + "x" + std::to_string(options.width));
  const bool wn = options.weight_norm;
  proj_in_ = this->register_module("proj_in", gated_conv<T>(in_channels, f, 3, wn, false, rng));
  for (std::size_t i = 0; i < options.blocks; ++i) {
    const std::string n = "block" + std::to_string(i) + "_";
    Block blk;
    blk.conv1 = this->register_module(n + "conv1", gated_conv<T>(2 * f, f, 3, wn, false, rng));
    blk.conv2 = this->register_module(n + "conv2", gated_conv<T>(2 * f, 2 * f, 1, wn, false, rng));
    blk.norm_gain = this->register_parameter(n + "norm_gain", filled<T>(f, T(1)));
    blk.norm_bias = this->register_parameter(n + "norm_bias", Tensor<T>({f}));
    if (heads > 0) {
      // Flow++ starts its positional embedding small (N(0, 0.01^2)).
      blk.pos = this->register_parameter(n + "pos", rng.normal<T>({f, options.height, options.width}, T(0), T(0.01)));
      blk.qkv = this->register_module(n + "qkv", gated_conv<T>(f, 3 * f, 1, wn, false, rng));
      blk.attn_out = this->register_module(n + "attn_out", gated_conv<T>(f, 2 * f, 1, wn, false, rng));
      blk.attn_norm_gain = this->register_parameter(n + "attn_norm_gain", filled<T>(f, T(1)));
      blk.attn_norm_bias = this->register_parameter(n + "attn_norm_bias", Tensor<T>({f}));
    }
    blocks_.push_back(blk);
  }
  proj_out_ = this->register_module("proj_out", gated_conv<T>(f, out_channels, 3, wn, /*zero=*/true, rng));
}

template <typename T>
Var<T> GatedResNetConditioner<T>::forward(const Var<T>& x) {
  if (x.dim() != 4 || x.shape()[1] != in_channels_)
    throw std::invalid_argument("GatedResNetConditioner: expected an input (B, " + std::to_string(in_channels_) +
                                ", H, W), got shape " + shape_str(x.shape()));
  const bool attention = options_.attention_heads > 0;
  if (attention && (x.shape()[2] != options_.height || x.shape()[3] != options_.width))
    throw std::invalid_argument("GatedResNetConditioner: built for " + std::to_string(options_.height) + "x" +
                                std::to_string(options_.width) + " images (attention), got shape " +
                                shape_str(x.shape()));
  Var<T> h = proj_in_->forward(x);
  for (Block& blk : blocks_) {
    const Var<T> a = blk.conv1->forward(concat_elu(h));
    h = channel_layer_norm(h + gated_linear_unit(blk.conv2->forward(concat_elu(a))), blk.norm_gain, blk.norm_bias);
    if (attention) {
      const Var<T> attended = multi_head_attention(blk.qkv->forward(h + blk.pos), options_.attention_heads);
      h = channel_layer_norm(h + gated_linear_unit(blk.attn_out->forward(attended)), blk.attn_norm_gain,
                             blk.attn_norm_bias);
    }
  }
  return proj_out_->forward(h);
}

#define FZ_INSTANTIATE(T)                                                             \
  template Var<T> concat_elu<T>(const Var<T>&);                                       \
  template Var<T> channel_layer_norm<T>(const Var<T>&, const Var<T>&, const Var<T>&); \
  template Var<T> gated_linear_unit<T>(const Var<T>&);                                \
  template Var<T> multi_head_attention<T>(const Var<T>&, std::size_t);                \
  template class GatedResNetConditioner<T>;
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
