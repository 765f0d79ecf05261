// tensor/elementwise_reference.cpp — every elementwise kernel as one xtensor expression over
// xview(...) (tensor/xtensor_view.hpp), evaluated into a fresh Tensor; broadcasting is
// xtensor's, which follows NumPy. Scalars are plain T values inside the expression.
#include "tensor/elementwise_reference.hpp"

#include <stdexcept>
#include <string>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "tensor/broadcast.hpp"
#include "tensor/xtensor_view.hpp"

namespace fz::reference {

namespace {

// The same shape errors as the fast kernels, naming the op (xtensor would throw its own
// broadcast_error).
template <typename T>
void check_broadcast(const Tensor<T>& a, const Tensor<T>& b, const char* op) {
  (void)make_broadcast_plan(a.shape(), b.shape(), op);
}

}  // namespace

// ---- unary -----------------------------------------------------------------------------

template <typename T> Tensor<T> neg(const Tensor<T>& x) { return Tensor<T>(-xview(x)); }
template <typename T> Tensor<T> exp(const Tensor<T>& x) { return Tensor<T>(xt::exp(xview(x))); }
template <typename T> Tensor<T> expm1(const Tensor<T>& x) { return Tensor<T>(xt::expm1(xview(x))); }
template <typename T> Tensor<T> log(const Tensor<T>& x) { return Tensor<T>(xt::log(xview(x))); }
template <typename T> Tensor<T> log1p(const Tensor<T>& x) { return Tensor<T>(xt::log1p(xview(x))); }
template <typename T> Tensor<T> sqrt(const Tensor<T>& x) { return Tensor<T>(xt::sqrt(xview(x))); }
template <typename T> Tensor<T> rsqrt(const Tensor<T>& x) { return Tensor<T>(T(1) / xt::sqrt(xview(x))); }
template <typename T> Tensor<T> reciprocal(const Tensor<T>& x) { return Tensor<T>(T(1) / xview(x)); }
template <typename T> Tensor<T> abs(const Tensor<T>& x) { return Tensor<T>(xt::abs(xview(x))); }
template <typename T> Tensor<T> sign(const Tensor<T>& x) { return Tensor<T>(xt::sign(xview(x))); }
template <typename T> Tensor<T> square(const Tensor<T>& x) { return Tensor<T>(xview(x) * xview(x)); }
template <typename T> Tensor<T> tanh(const Tensor<T>& x) { return Tensor<T>(xt::tanh(xview(x))); }
template <typename T>
Tensor<T> sigmoid(const Tensor<T>& x) {
  return Tensor<T>(T(1) / (T(1) + xt::exp(-xview(x))));
}
template <typename T>
Tensor<T> logsigmoid(const Tensor<T>& x) {
  // log(1 / (1 + e^-x)), rearranged so that neither branch overflows.
  const auto v = xview(x);
  return Tensor<T>(xt::minimum(v, T(0)) - xt::log1p(xt::exp(-xt::abs(v))));
}
template <typename T>
Tensor<T> softplus(const Tensor<T>& x) {
  const auto v = xview(x);
  return Tensor<T>(xt::maximum(v, T(0)) + xt::log1p(xt::exp(-xt::abs(v))));
}
template <typename T> Tensor<T> relu(const Tensor<T>& x) { return Tensor<T>(xt::maximum(xview(x), T(0))); }
template <typename T>
Tensor<T> leaky_relu(const Tensor<T>& x, type_identity_t<T> slope) {
  const auto v = xview(x);
  return Tensor<T>(xt::where(v > T(0), v, slope * v));
}
template <typename T>
Tensor<T> elu(const Tensor<T>& x, type_identity_t<T> alpha) {
  const auto v = xview(x);
  return Tensor<T>(xt::where(v > T(0), v, alpha * xt::expm1(v)));
}
template <typename T>
Tensor<T> clamp(const Tensor<T>& x, type_identity_t<T> lo, type_identity_t<T> hi) {
  if (!(lo <= hi))
    throw std::invalid_argument("clamp: lower bound " + std::to_string(lo) +
                                " is above upper bound " + std::to_string(hi));
  return Tensor<T>(xt::minimum(xt::maximum(xview(x), lo), hi));
}
template <typename T>
Tensor<T> pow(const Tensor<T>& x, type_identity_t<T> p) {
  return Tensor<T>(xt::pow(xview(x), p));
}

// ---- scalar operand ----------------------------------------------------------------------

template <typename T> Tensor<T> add_scalar(const Tensor<T>& x, type_identity_t<T> s) { return Tensor<T>(xview(x) + s); }
template <typename T> Tensor<T> mul_scalar(const Tensor<T>& x, type_identity_t<T> s) { return Tensor<T>(xview(x) * s); }
template <typename T>
Tensor<T> affine_scalar(const Tensor<T>& x, type_identity_t<T> a, type_identity_t<T> b) {
  return Tensor<T>(a * xview(x) + b);
}
template <typename T> Tensor<T> scalar_div(type_identity_t<T> s, const Tensor<T>& x) { return Tensor<T>(s / xview(x)); }

// ---- binary --------------------------------------------------------------------------------

template <typename T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  check_broadcast(a, b, "add");
  return Tensor<T>(xview(a) + xview(b));
}
template <typename T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  check_broadcast(a, b, "sub");
  return Tensor<T>(xview(a) - xview(b));
}
template <typename T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  check_broadcast(a, b, "mul");
  return Tensor<T>(xview(a) * xview(b));
}
template <typename T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  check_broadcast(a, b, "div");
  return Tensor<T>(xview(a) / xview(b));
}
template <typename T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  check_broadcast(a, b, "maximum");
  return Tensor<T>(xt::maximum(xview(a), xview(b)));
}
template <typename T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  check_broadcast(a, b, "minimum");
  return Tensor<T>(xt::minimum(xview(a), xview(b)));
}
template <typename T>
Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b) {
  check_broadcast(a, b, "pow");
  return Tensor<T>(xt::pow(xview(a), xview(b)));
}
template <typename T>
Tensor<T> maximum_weight(const Tensor<T>& a, const Tensor<T>& b) {
  check_broadcast(a, b, "maximum");
  const auto va = xview(a);
  const auto vb = xview(b);
  return Tensor<T>(xt::where(va > vb, T(1), xt::where(xt::equal(va, vb), T(0.5), T(0))));
}
template <typename T>
Tensor<T> affine_elementwise(const Tensor<T>& x, const Tensor<T>& scale, const Tensor<T>& shift) {
  check_broadcast(x, scale, "affine_elementwise");
  check_broadcast(x, shift, "affine_elementwise");
  return Tensor<T>(xview(x) * xview(scale) + xview(shift));
}

// ---- in place --------------------------------------------------------------------------------

template <typename T>
void add_inplace(Tensor<T>& dst, const Tensor<T>& src) {
  check_same_shape(dst.shape(), src.shape(), "add_inplace");
  auto d = xview(dst);
  d += xview(src);
}
template <typename T>
void sub_inplace(Tensor<T>& dst, const Tensor<T>& src) {
  check_same_shape(dst.shape(), src.shape(), "sub_inplace");
  auto d = xview(dst);
  d -= xview(src);
}
template <typename T>
void mul_inplace(Tensor<T>& dst, const Tensor<T>& src) {
  check_same_shape(dst.shape(), src.shape(), "mul_inplace");
  auto d = xview(dst);
  d *= xview(src);
}
template <typename T>
void axpy_inplace(Tensor<T>& dst, type_identity_t<T> alpha, const Tensor<T>& src) {
  check_same_shape(dst.shape(), src.shape(), "axpy_inplace");
  auto d = xview(dst);
  d += alpha * xview(src);
}
template <typename T>
void axpby_inplace(Tensor<T>& dst, type_identity_t<T> alpha, const Tensor<T>& src, type_identity_t<T> beta) {
  check_same_shape(dst.shape(), src.shape(), "axpby_inplace");
  auto d = xview(dst);
  d = beta * d + alpha * xview(src);
}
template <typename T>
void scale_inplace(Tensor<T>& dst, type_identity_t<T> alpha) {
  auto d = xview(dst);
  d *= alpha;
}
template <typename T>
void add_scalar_inplace(Tensor<T>& dst, type_identity_t<T> s) {
  auto d = xview(dst);
  d += s;
}

// ---- gradient helpers ------------------------------------------------------------------------

template <typename T>
Tensor<T> sigmoid_backward(const Tensor<T>& g, const Tensor<T>& y) {
  check_same_shape(g.shape(), y.shape(), "sigmoid_backward");
  return Tensor<T>(xview(g) * xview(y) * (T(1) - xview(y)));
}
template <typename T>
Tensor<T> tanh_backward(const Tensor<T>& g, const Tensor<T>& y) {
  check_same_shape(g.shape(), y.shape(), "tanh_backward");
  return Tensor<T>(xview(g) * (T(1) - xview(y) * xview(y)));
}
template <typename T>
Tensor<T> relu_backward(const Tensor<T>& g, const Tensor<T>& x) {
  check_same_shape(g.shape(), x.shape(), "relu_backward");
  return Tensor<T>(xt::where(xview(x) > T(0), xview(g), T(0)));
}
template <typename T>
Tensor<T> leaky_relu_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> slope) {
  check_same_shape(g.shape(), x.shape(), "leaky_relu_backward");
  return Tensor<T>(xt::where(xview(x) > T(0), xview(g), slope * xview(g)));
}
template <typename T>
Tensor<T> elu_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& y, type_identity_t<T> alpha) {
  check_same_shape(g.shape(), x.shape(), "elu_backward");
  check_same_shape(g.shape(), y.shape(), "elu_backward");
  return Tensor<T>(xt::where(xview(x) > T(0), xview(g), xview(g) * (xview(y) + alpha)));
}
template <typename T>
Tensor<T> clamp_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> lo, type_identity_t<T> hi) {
  check_same_shape(g.shape(), x.shape(), "clamp_backward");
  const auto v = xview(x);
  return Tensor<T>(xt::where(v >= lo && v <= hi, xview(g), T(0)));
}
template <typename T>
Tensor<T> abs_backward(const Tensor<T>& g, const Tensor<T>& x) {
  check_same_shape(g.shape(), x.shape(), "abs_backward");
  return Tensor<T>(xview(g) * xt::sign(xview(x)));
}
template <typename T>
Tensor<T> softplus_backward(const Tensor<T>& g, const Tensor<T>& x) {
  check_same_shape(g.shape(), x.shape(), "softplus_backward");
  return Tensor<T>(xview(g) / (T(1) + xt::exp(-xview(x))));
}
template <typename T>
Tensor<T> logsigmoid_backward(const Tensor<T>& g, const Tensor<T>& x) {
  check_same_shape(g.shape(), x.shape(), "logsigmoid_backward");
  return Tensor<T>(xview(g) / (T(1) + xt::exp(xview(x))));
}
template <typename T>
Tensor<T> log1p_backward(const Tensor<T>& g, const Tensor<T>& x) {
  check_same_shape(g.shape(), x.shape(), "log1p_backward");
  return Tensor<T>(xview(g) / (T(1) + xview(x)));
}
template <typename T>
Tensor<T> sqrt_backward(const Tensor<T>& g, const Tensor<T>& y) {
  check_same_shape(g.shape(), y.shape(), "sqrt_backward");
  return Tensor<T>(xview(g) / (T(2) * xview(y)));
}
template <typename T>
Tensor<T> pow_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> p) {
  check_same_shape(g.shape(), x.shape(), "pow_backward");
  return Tensor<T>(xview(g) * p * xt::pow(xview(x), p - T(1)));
}

// ---- explicit instantiations -------------------------------------------------------------------

#define FZ_EW_REF_INSTANTIATE(T)                                                             \
  template Tensor<T> neg(const Tensor<T>&);                                                  \
  template Tensor<T> exp(const Tensor<T>&);                                                  \
  template Tensor<T> expm1(const Tensor<T>&);                                                \
  template Tensor<T> log(const Tensor<T>&);                                                  \
  template Tensor<T> log1p(const Tensor<T>&);                                                \
  template Tensor<T> sqrt(const Tensor<T>&);                                                 \
  template Tensor<T> rsqrt(const Tensor<T>&);                                                \
  template Tensor<T> reciprocal(const Tensor<T>&);                                           \
  template Tensor<T> abs(const Tensor<T>&);                                                  \
  template Tensor<T> sign(const Tensor<T>&);                                                 \
  template Tensor<T> square(const Tensor<T>&);                                               \
  template Tensor<T> tanh(const Tensor<T>&);                                                 \
  template Tensor<T> sigmoid(const Tensor<T>&);                                              \
  template Tensor<T> logsigmoid(const Tensor<T>&);                                           \
  template Tensor<T> softplus(const Tensor<T>&);                                             \
  template Tensor<T> relu(const Tensor<T>&);                                                 \
  template Tensor<T> leaky_relu(const Tensor<T>&, T);                                        \
  template Tensor<T> elu(const Tensor<T>&, T);                                               \
  template Tensor<T> clamp(const Tensor<T>&, T, T);                                          \
  template Tensor<T> pow(const Tensor<T>&, T);                                               \
  template Tensor<T> add_scalar(const Tensor<T>&, T);                                        \
  template Tensor<T> mul_scalar(const Tensor<T>&, T);                                        \
  template Tensor<T> affine_scalar(const Tensor<T>&, T, T);                                  \
  template Tensor<T> scalar_div(T, const Tensor<T>&);                                        \
  template Tensor<T> add(const Tensor<T>&, const Tensor<T>&);                                \
  template Tensor<T> sub(const Tensor<T>&, const Tensor<T>&);                                \
  template Tensor<T> mul(const Tensor<T>&, const Tensor<T>&);                                \
  template Tensor<T> div(const Tensor<T>&, const Tensor<T>&);                                \
  template Tensor<T> maximum(const Tensor<T>&, const Tensor<T>&);                            \
  template Tensor<T> minimum(const Tensor<T>&, const Tensor<T>&);                            \
  template Tensor<T> pow(const Tensor<T>&, const Tensor<T>&);                                \
  template Tensor<T> maximum_weight(const Tensor<T>&, const Tensor<T>&);                     \
  template Tensor<T> affine_elementwise(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&); \
  template void add_inplace(Tensor<T>&, const Tensor<T>&);                                   \
  template void sub_inplace(Tensor<T>&, const Tensor<T>&);                                   \
  template void mul_inplace(Tensor<T>&, const Tensor<T>&);                                   \
  template void axpy_inplace(Tensor<T>&, T, const Tensor<T>&);                               \
  template void axpby_inplace(Tensor<T>&, T, const Tensor<T>&, T);                           \
  template void scale_inplace(Tensor<T>&, T);                                                \
  template void add_scalar_inplace(Tensor<T>&, T);                                           \
  template Tensor<T> sigmoid_backward(const Tensor<T>&, const Tensor<T>&);                   \
  template Tensor<T> tanh_backward(const Tensor<T>&, const Tensor<T>&);                      \
  template Tensor<T> relu_backward(const Tensor<T>&, const Tensor<T>&);                      \
  template Tensor<T> leaky_relu_backward(const Tensor<T>&, const Tensor<T>&, T);             \
  template Tensor<T> elu_backward(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, T);  \
  template Tensor<T> clamp_backward(const Tensor<T>&, const Tensor<T>&, T, T);               \
  template Tensor<T> abs_backward(const Tensor<T>&, const Tensor<T>&);                       \
  template Tensor<T> softplus_backward(const Tensor<T>&, const Tensor<T>&);                  \
  template Tensor<T> logsigmoid_backward(const Tensor<T>&, const Tensor<T>&);                \
  template Tensor<T> log1p_backward(const Tensor<T>&, const Tensor<T>&);                     \
  template Tensor<T> sqrt_backward(const Tensor<T>&, const Tensor<T>&);                      \
  template Tensor<T> pow_backward(const Tensor<T>&, const Tensor<T>&, T);

FZ_EW_REF_INSTANTIATE(float)
FZ_EW_REF_INSTANTIATE(double)
#undef FZ_EW_REF_INSTANTIATE

}  // namespace fz::reference
