// tensor/elementwise.hpp — elementwise kernels on Tensor<float> / Tensor<double>.
//
// Every kernel runs over the flat, contiguous buffer with xsimd::batch<T> (the SIMD tail is
// computed through a padded batch, so an element gets the same result wherever it sits) and
// splits across threads with parallel_for above kParallelGrain. Binary kernels follow NumPy
// broadcasting with fast paths for equal shapes, a scalar operand and "inner-contiguous"
// broadcasts such as (N,C,H,W) op (C,1,1) or (N,F) op (F,); any other broadcast takes a
// correct general path. All kernels return fresh tensors except the *_inplace helpers, which
// write into a buffer their caller owns (optimisers, gradient accumulation).
//
// Scalar parameters are non-deduced (`type_identity_t<T>`) so `mul_scalar(x, 2.0)` works for
// a Tensor<float>.
#pragma once

#include "tensor.hpp"

namespace fz {

template <typename T>
struct type_identity {
  using type = T;
};
template <typename T>
using type_identity_t = typename type_identity<T>::type;

// ---- unary -----------------------------------------------------------------------------
template <typename T> Tensor<T> neg(const Tensor<T>& x);
template <typename T> Tensor<T> exp(const Tensor<T>& x);
template <typename T> Tensor<T> expm1(const Tensor<T>& x);
template <typename T> Tensor<T> log(const Tensor<T>& x);
template <typename T> Tensor<T> log1p(const Tensor<T>& x);
template <typename T> Tensor<T> sqrt(const Tensor<T>& x);
template <typename T> Tensor<T> rsqrt(const Tensor<T>& x);       // 1 / sqrt(x)
template <typename T> Tensor<T> reciprocal(const Tensor<T>& x);  // 1 / x
template <typename T> Tensor<T> abs(const Tensor<T>& x);
template <typename T> Tensor<T> sign(const Tensor<T>& x);  // -1, 0 or 1
template <typename T> Tensor<T> square(const Tensor<T>& x);
template <typename T> Tensor<T> tanh(const Tensor<T>& x);
template <typename T> Tensor<T> sigmoid(const Tensor<T>& x);
// log sigmoid(x) = min(x,0) - log1p(exp(-|x|)): finite for every finite x.
template <typename T> Tensor<T> logsigmoid(const Tensor<T>& x);
// softplus(x) = log(1 + e^x) = max(x,0) + log1p(exp(-|x|)).
template <typename T> Tensor<T> softplus(const Tensor<T>& x);
template <typename T> Tensor<T> relu(const Tensor<T>& x);
template <typename T> Tensor<T> leaky_relu(const Tensor<T>& x, type_identity_t<T> slope);
// elu(x) = x for x > 0, alpha (e^x - 1) otherwise.
template <typename T> Tensor<T> elu(const Tensor<T>& x, type_identity_t<T> alpha);
template <typename T> Tensor<T> clamp(const Tensor<T>& x, type_identity_t<T> lo, type_identity_t<T> hi);
// x^p; exact repeated multiplication for small integer p, exp(p log|x|) otherwise
// (negative x with a non-integer p gives NaN, as std::pow).
template <typename T> Tensor<T> pow(const Tensor<T>& x, type_identity_t<T> p);

// ---- scalar operand ----------------------------------------------------------------------
template <typename T> Tensor<T> add_scalar(const Tensor<T>& x, type_identity_t<T> s);
template <typename T> Tensor<T> mul_scalar(const Tensor<T>& x, type_identity_t<T> s);
// a * x + b in one pass (covers s - x as affine_scalar(x, -1, s)).
template <typename T> Tensor<T> affine_scalar(const Tensor<T>& x, type_identity_t<T> a, type_identity_t<T> b);
// s / x.
template <typename T> Tensor<T> scalar_div(type_identity_t<T> s, const Tensor<T>& x);

// ---- binary with NumPy broadcasting --------------------------------------------------------
template <typename T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b);

// x * scale + shift with broadcasting of scale and shift against x (output has x's shape):
// the affine step of ActNorm / affine couplings in one pass when scale and shift share a
// shape; otherwise two broadcast passes.
template <typename T>
Tensor<T> affine_elementwise(const Tensor<T>& x, const Tensor<T>& scale, const Tensor<T>& shift);

// ---- in place (the caller owns dst's buffer; shapes must be equal) ------------------------
template <typename T> void add_inplace(Tensor<T>& dst, const Tensor<T>& src);                     // dst += src
template <typename T> void sub_inplace(Tensor<T>& dst, const Tensor<T>& src);                     // dst -= src
template <typename T> void mul_inplace(Tensor<T>& dst, const Tensor<T>& src);                     // dst *= src
template <typename T> void axpy_inplace(Tensor<T>& dst, type_identity_t<T> alpha, const Tensor<T>& src);  // dst += alpha src
// dst = beta * dst + alpha * src (EMA, momentum buffers).
template <typename T>
void axpby_inplace(Tensor<T>& dst, type_identity_t<T> alpha, const Tensor<T>& src, type_identity_t<T> beta);
template <typename T> void scale_inplace(Tensor<T>& dst, type_identity_t<T> alpha);  // dst *= alpha
template <typename T> void add_scalar_inplace(Tensor<T>& dst, type_identity_t<T> s);  // dst += s

// ---- gradient helpers (one pass instead of two or three) ----------------------------------
// Each takes the upstream gradient g and what the forward saved; all shapes equal.
template <typename T> Tensor<T> sigmoid_backward(const Tensor<T>& g, const Tensor<T>& y);  // g y (1 - y)
template <typename T> Tensor<T> tanh_backward(const Tensor<T>& g, const Tensor<T>& y);     // g (1 - y^2)
template <typename T> Tensor<T> relu_backward(const Tensor<T>& g, const Tensor<T>& x);     // g [x > 0]
template <typename T>
Tensor<T> leaky_relu_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> slope);  // g [x>0 ? 1 : slope]
// g [x > 0 ? 1 : y + alpha], where y = elu(x) (so y + alpha = alpha e^x).
template <typename T>
Tensor<T> elu_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& y, type_identity_t<T> alpha);
// g [lo <= x <= hi]
template <typename T>
Tensor<T> clamp_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> lo, type_identity_t<T> hi);
template <typename T> Tensor<T> abs_backward(const Tensor<T>& g, const Tensor<T>& x);       // g sign(x)
template <typename T> Tensor<T> softplus_backward(const Tensor<T>& g, const Tensor<T>& x);  // g sigmoid(x)
template <typename T> Tensor<T> logsigmoid_backward(const Tensor<T>& g, const Tensor<T>& x);  // g sigmoid(-x)
template <typename T> Tensor<T> log1p_backward(const Tensor<T>& g, const Tensor<T>& x);     // g / (1 + x)
template <typename T> Tensor<T> sqrt_backward(const Tensor<T>& g, const Tensor<T>& y);      // g / (2 y)
// g p x^(p-1)
template <typename T> Tensor<T> pow_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> p);
// Weight of a in d max(a,b)/da on the broadcast shape: 1 where a > b, 1/2 at ties, 0 else
// (ties split the gradient, as PyTorch does). For minimum swap a and b.
template <typename T> Tensor<T> maximum_weight(const Tensor<T>& a, const Tensor<T>& b);

}  // namespace fz
