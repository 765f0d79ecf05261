// flows/conditioners/gated_resnet.hpp — Flow++'s coupling conditioner (Ho et al. 2019, "Flow++",
// section 3.3): a stack of gated residual convolution blocks with layer normalisation between
// them, optionally each followed by gated multi-head self-attention over the H*W positions.
// NCHW, stride 1, "same" padding:
//
//   h = proj_in(x)                                   conv3x3, c_in -> F
//   repeat blocks:
//     a = conv1(concat_elu(h))                       conv3x3, 2F -> F
//     c = conv2(concat_elu(a))                       conv1x1, 2F -> 2F
//     h = layer_norm(h + c[:F] * sigmoid(c[F:]))     gated linear unit, residual, norm
//     if attention (heads n):
//       q, k, v = proj_qkv(h + pos)                  conv1x1, F -> 3F; pos a learned (F, H, W)
//       per head (F/n channels): A = softmax(q^T k / sqrt(F/n)) over the H*W positions
//       c = proj_attn(v A^T)                         conv1x1, F -> 2F
//       h = layer_norm(h + c[:F] * sigmoid(c[F:]))
//   out = proj_out(h)                                conv3x3, F -> c_out, zero-initialised
//
// concat_elu(x) = elu(concat(x, -x)) on the channel axis (PixelCNN++'s nonlinearity, which
// Flow++ uses: it keeps both signs' information where a ReLU or ELU would flatten one).
// layer_norm normalises each position's F channels to mean 0 and variance 1 (eps 1e-5), then
// applies a learned per-channel gain (starting at 1) and bias (0): the flowplusplus code's
// norm over the channel axis. Everything is written with existing differentiable ops
// (elu, concat, chunk, sigmoid, mean, sqrt, matmul, softmax, reshape), so it has their
// gradients (and second derivatives) and no kernel of its own.
//
// Identity start: proj_out is Conv2dInit::Zeros, so the net outputs exactly 0 at first (its
// bias then receives the transformer's identity parameters, flows/bijectors/coupling_factories.cpp).
// Weight normalisation (Salimans & Kingma) on every convolution is optional, as in resnet.hpp.
// The attention block needs the image size at construction (the positional embedding).
//
// Names: children "proj_in", "block<b>_conv1", "block<b>_conv2" (and with attention
// "block<b>_qkv", "block<b>_attn_out"), "proj_out", each a Conv2d ("weight" and "bias", or "v",
// "g", "bias"); parameters "block<b>_norm_gain", "block<b>_norm_bias" (F) (and "block<b>_pos"
// (F, H, W), "block<b>_attn_norm_gain", "block<b>_attn_norm_bias").
// Parameter count without attention (wn = 1 with weight norm, else 0):
//   (9 c_in F + F + wn F) + blocks (18 F^2 + F + 4 F^2 + 2 F + 2 F + wn 3 F) + (9 F c_out + c_out + wn c_out)
// and each block's attention adds 3 F^2 + 3 F + 2 F^2 + 2 F + F H W + 2 F (+ wn 5 F).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "../../autograd/nn/conv2d.hpp"
#include "../../autograd/nn/module.hpp"
#include "../../tensor/random.hpp"

namespace fz {

struct GatedResNetOptions {
  std::size_t features = 32;       // F
  std::size_t blocks = 2;          // gated residual blocks
  bool weight_norm = false;        // weight-normalised convolutions
  std::size_t attention_heads = 0; // 0: no attention; else heads per attention block (divides F)
  std::size_t height = 0, width = 0;  // the input's H and W (needed with attention only)
};

// elu(concat(x, -x)) along axis 1: (B, C, ...) -> (B, 2C, ...).
template <typename T>
Var<T> concat_elu(const Var<T>& x);

// Each position's channels (axis 1 of (B, C, H, W)) normalised to mean 0, variance 1 (eps
// 1e-5), times gain (C) plus bias (C).
template <typename T>
Var<T> channel_layer_norm(const Var<T>& x, const Var<T>& gain, const Var<T>& bias);

// a * sigmoid(b) for (a, b) the two halves of x's channels: (B, 2C, ...) -> (B, C, ...).
template <typename T>
Var<T> gated_linear_unit(const Var<T>& x);

// Multi-head scaled dot-product self-attention over the positions of (B, 3F, H, W) queries,
// keys and values stacked on axis 1 (q = channels [0, F), k = [F, 2F), v = [2F, 3F)), heads
// dividing F: returns (B, F, H, W), each head's F/heads channels attending over the H*W positions.
template <typename T>
Var<T> multi_head_attention(const Var<T>& qkv, std::size_t heads);

template <typename T>
class GatedResNetConditioner : public Layer<T> {
 public:
  // Throws std::invalid_argument for zero channels, features or blocks, heads not dividing F,
  // or attention without the image size.
  GatedResNetConditioner(std::size_t in_channels, std::size_t out_channels, const GatedResNetOptions& options,
                         Rng& rng);
  std::string type_name() const override { return "GatedResNetConditioner"; }
  // x: (B, in_channels, H, W) -> (B, out_channels, H, W).
  Var<T> forward(const Var<T>& x) override;
  // The output convolution (zero-initialised).
  Conv2d<T>& proj_out() const { return *proj_out_; }
  const GatedResNetOptions& options() const { return options_; }

 private:
  struct Block {
    std::shared_ptr<Conv2d<T>> conv1, conv2, qkv, attn_out;
    Var<T> norm_gain, norm_bias, pos, attn_norm_gain, attn_norm_bias;
  };
  std::size_t in_channels_;
  GatedResNetOptions options_;
  std::shared_ptr<Conv2d<T>> proj_in_, proj_out_;
  std::vector<Block> blocks_;
};

extern template class GatedResNetConditioner<float>;
extern template class GatedResNetConditioner<double>;

}  // namespace fz
