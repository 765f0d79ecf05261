// autograd/ops_elementwise.hpp — differentiable elementwise ops on Var<T>: arithmetic with
// NumPy broadcasting (the backward of a broadcast input is reduced by sum_to), operator
// overloads, and the unary functions and activations.
//
// Scalar arguments are non-deduced (`type_identity_t<T>`), so `v * 2.0` and `1.0 - v` work for
// a Var<float>. Each op is defined in ops_elementwise.cpp with its forward and backward side
// by side; a backward only computes the gradients of inputs that require grad.
// Every op here has second derivatives (grad(..., create_graph = true), autograd/grad.hpp);
// for the piecewise-linear ones (relu, leaky_relu, abs, clamp, maximum, minimum) the second
// derivative is 0 away from the kinks.
#pragma once

#include "var.hpp"
#include "../tensor/elementwise.hpp"

namespace fz {

// ---- binary, with broadcasting -------------------------------------------------------------
template <typename T> Var<T> add(const Var<T>& a, const Var<T>& b);
template <typename T> Var<T> sub(const Var<T>& a, const Var<T>& b);
template <typename T> Var<T> mul(const Var<T>& a, const Var<T>& b);
template <typename T> Var<T> div(const Var<T>& a, const Var<T>& b);
// Ties split the gradient evenly between a and b.
template <typename T> Var<T> maximum(const Var<T>& a, const Var<T>& b);
template <typename T> Var<T> minimum(const Var<T>& a, const Var<T>& b);

// ---- with a constant scalar ----------------------------------------------------------------
template <typename T> Var<T> add_scalar(const Var<T>& x, type_identity_t<T> s);  // x + s
template <typename T> Var<T> mul_scalar(const Var<T>& x, type_identity_t<T> s);  // x * s
template <typename T> Var<T> rsub_scalar(type_identity_t<T> s, const Var<T>& x);  // s - x
template <typename T> Var<T> rdiv_scalar(type_identity_t<T> s, const Var<T>& x);  // s / x

// ---- unary ---------------------------------------------------------------------------------
template <typename T> Var<T> neg(const Var<T>& x);
template <typename T> Var<T> exp(const Var<T>& x);
template <typename T> Var<T> log(const Var<T>& x);
template <typename T> Var<T> log1p(const Var<T>& x);
template <typename T> Var<T> sqrt(const Var<T>& x);
template <typename T> Var<T> pow(const Var<T>& x, type_identity_t<T> p);
template <typename T> Var<T> abs(const Var<T>& x);
template <typename T> Var<T> square(const Var<T>& x);
template <typename T> Var<T> tanh(const Var<T>& x);
template <typename T> Var<T> sigmoid(const Var<T>& x);
template <typename T> Var<T> logsigmoid(const Var<T>& x);
template <typename T> Var<T> softplus(const Var<T>& x);
template <typename T> Var<T> relu(const Var<T>& x);
template <typename T> Var<T> leaky_relu(const Var<T>& x, type_identity_t<T> slope);
template <typename T> Var<T> elu(const Var<T>& x, type_identity_t<T> alpha);
template <typename T> Var<T> clamp(const Var<T>& x, type_identity_t<T> lo, type_identity_t<T> hi);

// ---- operators -------------------------------------------------------------------------------
template <typename T> Var<T> operator+(const Var<T>& a, const Var<T>& b) { return add(a, b); }
template <typename T> Var<T> operator-(const Var<T>& a, const Var<T>& b) { return sub(a, b); }
template <typename T> Var<T> operator*(const Var<T>& a, const Var<T>& b) { return mul(a, b); }
template <typename T> Var<T> operator/(const Var<T>& a, const Var<T>& b) { return div(a, b); }
template <typename T> Var<T> operator-(const Var<T>& x) { return neg(x); }

template <typename T> Var<T> operator+(const Var<T>& x, type_identity_t<T> s) { return add_scalar(x, s); }
template <typename T> Var<T> operator+(type_identity_t<T> s, const Var<T>& x) { return add_scalar(x, s); }
template <typename T> Var<T> operator-(const Var<T>& x, type_identity_t<T> s) { return add_scalar(x, -s); }
template <typename T> Var<T> operator-(type_identity_t<T> s, const Var<T>& x) { return rsub_scalar(s, x); }
template <typename T> Var<T> operator*(const Var<T>& x, type_identity_t<T> s) { return mul_scalar(x, s); }
template <typename T> Var<T> operator*(type_identity_t<T> s, const Var<T>& x) { return mul_scalar(x, s); }
template <typename T> Var<T> operator/(const Var<T>& x, type_identity_t<T> s) { return mul_scalar(x, T(1) / s); }
template <typename T> Var<T> operator/(type_identity_t<T> s, const Var<T>& x) { return rdiv_scalar(s, x); }

}  // namespace fz
