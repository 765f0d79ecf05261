// flows/bijectors/invertible_conv1x1.cpp — InvConv1x1 (plain, logabsdet) and InvConv1x1LU.
#include "flows/bijectors/invertible_conv1x1.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_linalg.hpp"
#include "autograd/ops_matmul.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/linalg.hpp"

namespace fz {

namespace {

// Number of positions each channel vector occupies per sample (H * W; 1 for (B, C)).
std::size_t positions(const Shape& s, std::size_t channels, const char* op) {
  if (s.size() < 2 || s[1] != channels)
    throw std::invalid_argument(std::string(op) + ": expected an input (B, " +
                                std::to_string(channels) + ", ...), got shape " + shape_str(s));
  return s[0] * s[1] == 0 ? 0 : shape_numel(s) / (s[0] * s[1]);
}

// y[b, :, p] = W x[b, :, p] at every position p.
template <typename T>
Var<T> mix_channels(const Var<T>& x, const Var<T>& W) {
  const Shape& s = x.shape();
  const std::size_t C = s[1];
  if (s.size() == 2) return linear(x, W);  // x W^T
  const Var<T> W4 = reshape(W, Shape{C, C, 1, 1});
  if (s.size() == 4) return conv2d(x, W4);  // pointwise conv: a GEMM per image
  // Any other (B, C, ...) as (B, C, positions, 1).
  const Shape as4 = {s[0], C, shape_numel(s) / (s[0] * C), 1};
  return reshape(conv2d(reshape(x, as4), W4), s);
}

// A Haar-random rotation, drawn in double so float and double layers start alike.
template <typename T>
Tensor<T> initial_rotation(std::size_t channels, Rng& rng, const char* who) {
  if (channels == 0) throw std::invalid_argument(std::string(who) + ": channels must be positive");
  Tensor<double> W = random_orthogonal<double>(channels, rng);
  return W.template cast<T>();
}

}  // namespace

// ---- plain ---------------------------------------------------------------------------------

template <typename T>
InvConv1x1<T>::InvConv1x1(std::size_t channels, Rng& rng) : channels_(channels) {
  weight_ = this->register_parameter("weight", initial_rotation<T>(channels, rng, "InvConv1x1"));
}

template <typename T>
Transformed<T> InvConv1x1<T>::forward(const Var<T>& x) {
  const std::size_t hw = positions(x.shape(), channels_, "InvConv1x1");
  // log|det| = H W log|det W|
  return {mix_channels(x, weight_), constant_logdet(logabsdet(weight_) * T(hw), x.shape()[0])};
}

template <typename T>
Transformed<T> InvConv1x1<T>::inverse(const Var<T>& y) {
  const std::size_t hw = positions(y.shape(), channels_, "InvConv1x1");
  return {mix_channels(y, fz::inverse(weight_)),
          constant_logdet(logabsdet(weight_) * T(-double(hw)), y.shape()[0])};
}

// ---- LU-decomposed ---------------------------------------------------------------------------

template <typename T>
InvConv1x1LU<T>::InvConv1x1LU(std::size_t channels, Rng& rng) : channels_(channels) {
  if (channels == 0) throw std::invalid_argument("InvConv1x1LU: channels must be positive");
  // A Haar-random rotation, drawn in double so float and double layers start alike.
  const Tensor<double> W0 = random_orthogonal<double>(channels, rng);
  const LUDecomposition<double> lu = lu_decompose(W0);  // W0 = Pt L U
  const std::size_t n = channels;
  Tensor<T> L({n, n}), U({n, n}), sign_s({n}), log_s({n});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < i; ++j) L[i * n + j] = T(lu.L[i * n + j]);
    for (std::size_t j = i + 1; j < n; ++j) U[i * n + j] = T(lu.U[i * n + j]);
    const double d = lu.U[i * n + i];
    sign_s[i] = d < 0 ? T(-1) : T(1);
    log_s[i] = T(std::log(std::abs(d)));
  }
  P_ = this->register_buffer("P", lu.Pt.template cast<T>());
  sign_s_ = this->register_buffer("sign_s", sign_s);
  L_ = this->register_parameter("L", L);
  U_ = this->register_parameter("U", U);
  log_s_ = this->register_parameter("log_s", log_s);
}

template <typename T>
Var<T> InvConv1x1LU<T>::weight() const {
  return lu_compose(P_, L_, U_, sign_s_, log_s_);
}

template <typename T>
Var<T> InvConv1x1LU<T>::log_abs_det() const {
  return sum(log_s_);
}

template <typename T>
Transformed<T> InvConv1x1LU<T>::forward(const Var<T>& x) {
  const std::size_t hw = positions(x.shape(), channels_, "InvConv1x1LU");
  // log|det| = H W sum(log_s)
  return {mix_channels(x, weight()), constant_logdet(log_abs_det() * T(hw), x.shape()[0])};
}

template <typename T>
Transformed<T> InvConv1x1LU<T>::inverse(const Var<T>& y) {
  const std::size_t hw = positions(y.shape(), channels_, "InvConv1x1LU");
  return {mix_channels(y, fz::inverse(weight())),
          constant_logdet(log_abs_det() * T(-double(hw)), y.shape()[0])};
}

template class InvConv1x1<float>;
template class InvConv1x1<double>;
template class InvConv1x1LU<float>;
template class InvConv1x1LU<double>;

}  // namespace fz
