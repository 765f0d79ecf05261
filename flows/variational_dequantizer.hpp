// flows/variational_dequantizer.hpp — variational dequantization (Flow++, Ho et al. 2019,
// section 3.1): a conditional flow q(u | x) for the dequantization noise u in (0, 1)^D of an
// image x of integer pixels, trained jointly with the density model p.
//
//   eps ~ N(0, I)                                 shaped like the image (B, C, H, W)
//   h   = coupling_K( ... coupling_1(eps; x) )    checkerboard affine couplings (alternating
//                                                 parity) whose conditioners also see a feature
//                                                 map f(x) of the pixels scaled to [-1/2, 1/2]
//   u   = delta + (1 - 2 delta) sigmoid(a h)       a = 1.702, delta = 1e-4
//   log q(u | x) = log N(eps) - sum of the couplings' log-dets
//                  - sum over elements of [log a + log sigmoid(a h) + log sigmoid(-a h) + log(1 - 2 delta)]
// The model then sees y = (x + u) / 2^bits, and
//   log P(x) >= E_q[ log p(y) - D ln 2^bits - log q(u | x) ]
// (the discrete likelihood's variational lower bound; uniform dequantization is the case
// log q = 0). Bits/dim of the bound: -(log p(y) - log q(u | x) - D ln 2^bits) / (D ln 2)
// (bits_per_dim of flows/image_likelihood.hpp applied to log p(y) - log q).
//
// Why a = 1.702: sigmoid(1.702 e) is within 0.01 of the normal CDF Phi(e), so a fresh
// dequantizer (every coupling starts as the identity: zero-initialised last convolution) is
// close to the uniform one and its bound starts near uniform dequantization's. Why delta: in
// float, (255 + u) / 256 rounds to 1.0 for u within 2^-16 of 1, which would put a logit
// preprocessing (RealNVP) at infinity; u in [1e-4, 1 - 1e-4] keeps y strictly inside its bin.
// Its log-det, D log(1 - 2 delta) ~ -2e-4 nats per dimension, is part of log q.
//
// The feature net f: conv3x3 (C -> hidden) -> ReLU -> conv3x3 (hidden -> hidden) -> ReLU.
// Each coupling's conditioner (ContextConditioner in the .cpp): concat(eps * m, m, f(x)) ->
// conv3x3 (C + 1 + hidden -> hidden) -> ReLU -> zero conv3x3 (-> 2C: the affine transformer's
// log-scale and shift, log-scale = scale * tanh(s) with the learned per-channel "scale").
// The conditioner is handed f(x) for the duration of one dequantize() call (bind/release).
//
// Names (checkpoint "model.dequantizer.*" when attached to a FlowModel): "features1.*",
// "features2.*" (the feature net's convolutions), "coupling<i>.scale", "coupling<i>.net.*".
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "../autograd/nn/conv2d.hpp"
#include "../autograd/nn/module.hpp"
#include "../tensor/random.hpp"
#include "bijectors/coupling.hpp"
#include "flow_model.hpp"

namespace fz {

// A batch of dequantized images: y = (pixels + u) / 2^bits (B, C, H, W), and log q(u | x) in
// nats per image (B,) — undefined for uniform dequantization, whose log q is 0.
template <typename T>
struct DequantizedBatch {
  Var<T> y;
  Var<T> log_q;
};

template <typename T>
class ContextConditioner;  // the couplings' conditioner (variational_dequantizer.cpp)

template <typename T>
class VariationalDequantizer : public Module<T> {
 public:
  static constexpr double kSigmoidGain = 1.702;  // sigmoid(1.702 e) ~ Phi(e)
  static constexpr double kMargin = 1e-4;        // u in [delta, 1 - delta]

  // image_shape (C, H, W); `hidden` channels in the feature net and the conditioners;
  // `couplings` checkerboard couplings (>= 1; 4 in the CLI); `bits` the pixels' bit depth.
  VariationalDequantizer(Shape image_shape, std::size_t hidden, std::size_t couplings, int bits, Rng& rng);
  std::string type_name() const override { return "VariationalDequantizer"; }

  // Standard-normal noise for a batch of `batch` images (what dequantize() transforms).
  Tensor<T> draw_noise(std::size_t batch, Rng& rng) const;
  // u = q's sample for the noise `eps` (B, C, H, W) given `pixels` (B, C, H, W), as y and
  // log q(u | x); both are on the tape (differentiable in the dequantizer's parameters).
  DequantizedBatch<T> dequantize(const TensorU8& pixels, const Tensor<T>& eps);
  // The noise u in (0, 1) alone (tests: the density check by change of variables).
  Var<T> noise_to_u(const TensorU8& pixels, const Tensor<T>& eps) { return transform(pixels, eps).first; }

  const Shape& image_shape() const { return image_shape_; }
  std::size_t hidden() const { return hidden_; }
  int bits() const { return bits_; }

 private:
  // (u, log q(u | x)).
  std::pair<Var<T>, Var<T>> transform(const TensorU8& pixels, const Tensor<T>& eps);

  Shape image_shape_;
  std::size_t hidden_;
  int bits_;
  std::shared_ptr<Conv2d<T>> conv1_, conv2_;
  std::vector<std::shared_ptr<ContextConditioner<T>>> conditioners_;
  std::vector<std::shared_ptr<Coupling<T>>> couplings_;
};

// The couplings of the dequantizer the CLI builds (train --dequantization variational).
constexpr std::size_t kDequantizerCouplings = 4;

// Gives `model` (an image model: event shape (C, H, W)) a fresh dequantizer with `hidden`
// channels and kDequantizerCouplings couplings, drawn from `rng`.
template <typename T>
void add_variational_dequantizer(FlowModel<T>& model, std::size_t hidden, int bits, Rng& rng);

extern template class VariationalDequantizer<float>;
extern template class VariationalDequantizer<double>;

}  // namespace fz
