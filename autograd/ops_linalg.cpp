// autograd/ops_linalg.cpp — logabsdet, inverse and lu_compose: forward and backward side by
// side, on the plain-loop kernels of tensor/linalg; and lu_compose's plain form from masks,
// exp and matmul.
#include "autograd/ops_linalg.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_matmul.hpp"
#include "tensor/linalg.hpp"
#include "tensor/reference_mode.hpp"

namespace fz {

namespace {

template <typename T>
std::size_t check_square_var(const Var<T>& W, const char* op, const char* name) {
  if (W.dim() != 2 || W.shape()[0] != W.shape()[1])
    throw std::invalid_argument(std::string(op) + ": " + name +
                                " must be a square matrix (n, n), got shape " +
                                shape_str(W.shape()));
  return W.shape()[0];
}

// In place: x -> -x.
template <typename T>
void negate(Tensor<T>& t) {
  for (T& v : t) v = -v;
}

}  // namespace

template <typename T>
Var<T> logabsdet(const Var<T>& W) {
  const std::size_t n = check_square_var(W, "logabsdet", "W");
  LUDecomposition<T> lu = lu_decompose(W.value());
  const T value = slogdet(lu).logabsdet;  // throws a clear error if W is singular
  // d/dW log|det W| = W^-T (the LU is kept so the backward pass does not factor W again)
  return record_op("logabsdet", Tensor<T>::scalar(value), {W},
                   [W, n, lu = std::move(lu)](const Tensor<T>& g) {
                     if (!W.requires_grad()) return;
                     const Tensor<T> inv = inverse(lu);
                     Tensor<T> dW = Tensor<T>::empty({n, n});
                     const T g0 = g[0];
                     for (std::size_t i = 0; i < n; ++i)
                       for (std::size_t j = 0; j < n; ++j) dW[i * n + j] = g0 * inv[j * n + i];
                     W.accumulate_grad(std::move(dW));
                   });
}

template <typename T>
Var<T> inverse(const Var<T>& W) {
  check_square_var(W, "inverse", "W");
  Tensor<T> Y = inverse(W.value());
  // d(W^-1) = -W^-1 dW W^-1, so dL/dW = -Y^T G Y^T with Y = W^-1
  return record_op("inverse", Y, {W}, [W, Y](const Tensor<T>& g) {
    if (!W.requires_grad()) return;
    Tensor<T> dW = small_matmul(small_matmul(Y, g, true, false), Y, false, true);
    negate(dW);
    W.accumulate_grad(std::move(dW));
  });
}

namespace {

// n, after checking P, L_param, U_param are (n, n) and sign_s, log_s (n).
template <typename T>
std::size_t check_lu_shapes(const Tensor<T>& P, const Var<T>& L_param, const Var<T>& U_param,
                            const Tensor<T>& sign_s, const Var<T>& log_s) {
  const std::size_t n = check_square_var(L_param, "lu_compose", "L_param");
  const Shape nn{n, n}, n1{n};
  if (P.shape() != nn || U_param.shape() != nn || sign_s.shape() != n1 || log_s.shape() != n1)
    throw std::invalid_argument(
        "lu_compose: expected P, L_param, U_param of shape " + shape_str(nn) +
        " and sign_s, log_s of shape " + shape_str(n1) + "; got P " + shape_str(P.shape()) +
        ", L_param " + shape_str(L_param.shape()) + ", U_param " + shape_str(U_param.shape()) +
        ", sign_s " + shape_str(sign_s.shape()) + ", log_s " + shape_str(log_s.shape()));
  return n;
}

}  // namespace

template <typename T>
Var<T> lu_compose(const Tensor<T>& P, const Var<T>& L_param, const Var<T>& U_param,
                  const Tensor<T>& sign_s, const Var<T>& log_s) {
  if (reference_ops()) return lu_compose_reference(P, L_param, U_param, sign_s, log_s);
  const std::size_t n = check_lu_shapes(P, L_param, U_param, sign_s, log_s);
  const Shape nn{n, n}, n1{n};

  // Lt = tril(L_param, -1) + I, Ut = triu(U_param, 1) + diag(s), s = sign_s * exp(log_s).
  Tensor<T> Lt(nn), Ut(nn), s = Tensor<T>::empty(n1);
  const Tensor<T>& L = L_param.value();
  const Tensor<T>& U = U_param.value();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < i; ++j) Lt[i * n + j] = L[i * n + j];
    Lt[i * n + i] = T(1);
    s[i] = sign_s[i] * std::exp(log_s.value()[i]);
    Ut[i * n + i] = s[i];
    for (std::size_t j = i + 1; j < n; ++j) Ut[i * n + j] = U[i * n + j];
  }
  Tensor<T> W = small_matmul(P, small_matmul(Lt, Ut));  // P is a permutation: O(n^2)

  // With M = Lt Ut and G = dL/dW: dM = P^T G, dLt = dM Ut^T, dUt = Lt^T dM; the parameters
  // get the strict triangles, and d/dlog_s_i = dUt_ii * s_i (since ds_i/dlog_s_i = s_i).
  return record_op("lu_compose", W, {L_param, U_param, log_s},
                   [P, Lt, Ut, s, n, L_param, U_param, log_s](const Tensor<T>& g) {
                     const Tensor<T> dM = small_matmul(P, g, true, false);
                     if (L_param.requires_grad()) {
                       Tensor<T> dL = small_matmul(dM, Ut, false, true);
                       for (std::size_t i = 0; i < n; ++i)
                         for (std::size_t j = i; j < n; ++j) dL[i * n + j] = T(0);
                       L_param.accumulate_grad(std::move(dL));
                     }
                     if (U_param.requires_grad() || log_s.requires_grad()) {
                       Tensor<T> dU = small_matmul(Lt, dM, true, false);
                       if (log_s.requires_grad()) {
                         Tensor<T> dlog = Tensor<T>::empty({n});
                         for (std::size_t i = 0; i < n; ++i) dlog[i] = dU[i * n + i] * s[i];
                         log_s.accumulate_grad(std::move(dlog));
                       }
                       if (U_param.requires_grad()) {
                         for (std::size_t i = 0; i < n; ++i)
                           for (std::size_t j = 0; j <= i; ++j) dU[i * n + j] = T(0);
                         U_param.accumulate_grad(std::move(dU));
                       }
                     }
                   });
}

// The masks select the strict triangles, the identity adds the unit diagonal of L, and
// identity * s (s broadcast along the rows) is diag(s).
template <typename T>
Var<T> lu_compose_reference(const Tensor<T>& P, const Var<T>& L_param, const Var<T>& U_param,
                            const Tensor<T>& sign_s, const Var<T>& log_s) {
  const std::size_t n = check_lu_shapes(P, L_param, U_param, sign_s, log_s);
  Tensor<T> strict_lower({n, n}), strict_upper({n, n}), identity({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      strict_lower[i * n + j] = j < i ? T(1) : T(0);
      strict_upper[i * n + j] = j > i ? T(1) : T(0);
      identity[i * n + j] = i == j ? T(1) : T(0);
    }
  const Var<T> eye(identity);
  const Var<T> lower = L_param * Var<T>(strict_lower) + eye;
  const Var<T> s = exp(log_s) * Var<T>(sign_s);
  const Var<T> upper = U_param * Var<T>(strict_upper) + eye * reshape(s, Shape{1, n});
  return matmul(Var<T>(P), matmul(lower, upper));
}

template Var<float> logabsdet(const Var<float>&);
template Var<double> logabsdet(const Var<double>&);
template Var<float> inverse(const Var<float>&);
template Var<double> inverse(const Var<double>&);
template Var<float> lu_compose(const Tensor<float>&, const Var<float>&, const Var<float>&,
                               const Tensor<float>&, const Var<float>&);
template Var<double> lu_compose(const Tensor<double>&, const Var<double>&, const Var<double>&,
                                const Tensor<double>&, const Var<double>&);
template Var<float> lu_compose_reference(const Tensor<float>&, const Var<float>&, const Var<float>&,
                                         const Tensor<float>&, const Var<float>&);
template Var<double> lu_compose_reference(const Tensor<double>&, const Var<double>&,
                                          const Var<double>&, const Tensor<double>&,
                                          const Var<double>&);

}  // namespace fz
