// tensor/elementwise_reference.hpp — the plain forms of the elementwise kernels
// (tensor/elementwise.hpp), one xtensor expression each: the NumPy-like ground truth that
// tests/tensor/test_reference_kernels.cpp checks the SIMD/TBB kernels against, and what the
// fast kernels run instead when reference_ops() is on (FZ_REFERENCE_OPS=1, --reference-ops).
//
// Same names, signatures, broadcasting and shape errors as the fast kernels, in namespace
// fz::reference; values agree to float rounding (xtensor's exp/log/... may round differently
// from the fast SIMD lambdas). Read tensor/elementwise_reference.cpp for what each kernel computes.
#pragma once

#include "elementwise.hpp"

namespace fz::reference {

// ---- unary
template <typename T> Tensor<T> neg(const Tensor<T>& x);
template <typename T> Tensor<T> exp(const Tensor<T>& x);
template <typename T> Tensor<T> expm1(const Tensor<T>& x);
template <typename T> Tensor<T> log(const Tensor<T>& x);
template <typename T> Tensor<T> log1p(const Tensor<T>& x);
template <typename T> Tensor<T> sqrt(const Tensor<T>& x);
template <typename T> Tensor<T> rsqrt(const Tensor<T>& x);
template <typename T> Tensor<T> reciprocal(const Tensor<T>& x);
template <typename T> Tensor<T> abs(const Tensor<T>& x);
template <typename T> Tensor<T> sign(const Tensor<T>& x);
template <typename T> Tensor<T> square(const Tensor<T>& x);
template <typename T> Tensor<T> tanh(const Tensor<T>& x);
template <typename T> Tensor<T> sigmoid(const Tensor<T>& x);
template <typename T> Tensor<T> logsigmoid(const Tensor<T>& x);
template <typename T> Tensor<T> softplus(const Tensor<T>& x);
template <typename T> Tensor<T> relu(const Tensor<T>& x);
template <typename T> Tensor<T> leaky_relu(const Tensor<T>& x, type_identity_t<T> slope);
template <typename T> Tensor<T> elu(const Tensor<T>& x, type_identity_t<T> alpha);
template <typename T> Tensor<T> clamp(const Tensor<T>& x, type_identity_t<T> lo, type_identity_t<T> hi);
template <typename T> Tensor<T> pow(const Tensor<T>& x, type_identity_t<T> p);

// ---- scalar operand
template <typename T> Tensor<T> add_scalar(const Tensor<T>& x, type_identity_t<T> s);
template <typename T> Tensor<T> mul_scalar(const Tensor<T>& x, type_identity_t<T> s);
template <typename T> Tensor<T> affine_scalar(const Tensor<T>& x, type_identity_t<T> a, type_identity_t<T> b);
template <typename T> Tensor<T> scalar_div(type_identity_t<T> s, const Tensor<T>& x);

// ---- binary with NumPy broadcasting
template <typename T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> maximum_weight(const Tensor<T>& a, const Tensor<T>& b);
template <typename T>
Tensor<T> affine_elementwise(const Tensor<T>& x, const Tensor<T>& scale, const Tensor<T>& shift);

// ---- in place
template <typename T> void add_inplace(Tensor<T>& dst, const Tensor<T>& src);
template <typename T> void sub_inplace(Tensor<T>& dst, const Tensor<T>& src);
template <typename T> void mul_inplace(Tensor<T>& dst, const Tensor<T>& src);
template <typename T> void axpy_inplace(Tensor<T>& dst, type_identity_t<T> alpha, const Tensor<T>& src);
template <typename T>
void axpby_inplace(Tensor<T>& dst, type_identity_t<T> alpha, const Tensor<T>& src, type_identity_t<T> beta);
template <typename T> void scale_inplace(Tensor<T>& dst, type_identity_t<T> alpha);
template <typename T> void add_scalar_inplace(Tensor<T>& dst, type_identity_t<T> s);

// ---- gradient helpers
template <typename T> Tensor<T> sigmoid_backward(const Tensor<T>& g, const Tensor<T>& y);
template <typename T> Tensor<T> tanh_backward(const Tensor<T>& g, const Tensor<T>& y);
template <typename T> Tensor<T> relu_backward(const Tensor<T>& g, const Tensor<T>& x);
template <typename T>
Tensor<T> leaky_relu_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> slope);
template <typename T>
Tensor<T> elu_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& y, type_identity_t<T> alpha);
template <typename T>
Tensor<T> clamp_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> lo, type_identity_t<T> hi);
template <typename T> Tensor<T> abs_backward(const Tensor<T>& g, const Tensor<T>& x);
template <typename T> Tensor<T> softplus_backward(const Tensor<T>& g, const Tensor<T>& x);
template <typename T> Tensor<T> logsigmoid_backward(const Tensor<T>& g, const Tensor<T>& x);
template <typename T> Tensor<T> log1p_backward(const Tensor<T>& g, const Tensor<T>& x);
template <typename T> Tensor<T> sqrt_backward(const Tensor<T>& g, const Tensor<T>& y);
template <typename T> Tensor<T> pow_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> p);

}  // namespace fz::reference
