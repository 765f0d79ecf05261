// flows/bijectors/invertible_conv1x1.hpp — Glow's invertible 1x1 convolution (Kingma &
// Dhariwal 2018, 3.2): a learned C x C channel-mixing matrix applied at every pixel.
//
//   forward:  y[b, :, h, w] = W x[b, :, h, w]          log|det J| = H * W * log|det W|
//   inverse:  x[b, :, h, w] = W^-1 y[b, :, h, w]       log|det J| = -H * W * log|det W|
// On (B, C) vectors it is y = x W^T with H * W = 1. The product runs as a pointwise conv2d
// with a (C, C, 1, 1) weight (a GEMM over channels, no im2col).
//
// Two parameterisations, both initialised from a Haar-random rotation (log|det W| = 0):
//   InvConv1x1:   parameter "weight" W (C, C); log|det W| by the differentiable logabsdet (an
//                 LU factorisation per call), inverse by inverse(W).
//   InvConv1x1LU: W = P (tril(L, -1) + I) (triu(U, 1) + diag(sign_s * exp(log_s)))
//                 with parameters "L", "U" (C, C; only the strict lower / strict upper parts are
//                 used — the full matrices are stored, as openai/glow does, so they count
//                 2 C^2 + C parameters) and "log_s" (C), and buffers "P" (C, C) and "sign_s" (C)
//                 taken from the LU decomposition of the initial rotation.
//                 log|det W| = sum(log_s) exactly: no factorisation in the forward pass.
#pragma once

#include <cstddef>
#include <string>

#include "../bijector.hpp"
#include "../../tensor/random.hpp"

namespace fz {

template <typename T>
class InvConv1x1 : public Bijector<T> {
 public:
  InvConv1x1(std::size_t channels, Rng& rng);
  std::string type_name() const override { return "InvConv1x1"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

  std::size_t channels() const { return channels_; }
  // The current W (C, C) as a Var (the parameter itself).
  Var<T> weight() const { return weight_; }

 private:
  std::size_t channels_;
  Var<T> weight_;
};

template <typename T>
class InvConv1x1LU : public Bijector<T> {
 public:
  InvConv1x1LU(std::size_t channels, Rng& rng);
  std::string type_name() const override { return "InvConv1x1LU"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

  std::size_t channels() const { return channels_; }
  // W = P L U composed from the current parameters (differentiable).
  Var<T> weight() const;
  // log|det W| = sum(log_s) as a 0-d Var.
  Var<T> log_abs_det() const;

 private:
  std::size_t channels_;
  Tensor<T> P_, sign_s_;
  Var<T> L_, U_, log_s_;
};

extern template class InvConv1x1<float>;
extern template class InvConv1x1<double>;
extern template class InvConv1x1LU<float>;
extern template class InvConv1x1LU<double>;

}  // namespace fz
