// flows/logdet_estimators.cpp — the power-series, Russian-roulette and exact log|det(I + J)|
// of residual maps, each a value with a first-order-differentiable surrogate.
#include "flows/logdet_estimators.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/linalg.hpp"

namespace fz {

namespace {

// Per-sample dot products of two (B, D) tensors, accumulated in double.
template <typename T>
std::vector<double> row_dots(const Tensor<T>& a, const Tensor<T>& b) {
  const std::size_t B = a.shape()[0], D = a.shape()[1];
  std::vector<double> out(B, 0.0);
  for (std::size_t i = 0; i < B; ++i)
    for (std::size_t j = 0; j < D; ++j) out[i] += double(a[i * D + j]) * double(b[i * D + j]);
  return out;
}

template <typename T>
void check_probe(const ResidualJacobian<T>& J, const Tensor<T>& probe, const char* who) {
  if (probe.dim() != 2 || probe.shape()[0] != J.batch || probe.shape()[1] != J.dims)
    throw std::invalid_argument(std::string(who) + ": the probe must be (" + std::to_string(J.batch) + ", " +
                                std::to_string(J.dims) + "), got " + shape_str(probe.shape()));
}

// value + (s - stop_grad(s)): reports `value`, differentiates as s.
template <typename T>
Var<T> value_with_gradient_of(const Tensor<T>& value, const Var<T>& s) {
  if (!s.requires_grad()) return Var<T>(value);
  return Var<T>(value) + (s - s.detach());
}

// The (B, D) tensor whose every row is the basis vector e_j.
template <typename T>
Tensor<T> basis_rows(std::size_t batch, std::size_t dims, std::size_t j) {
  Tensor<T> e({batch, dims});
  for (std::size_t b = 0; b < batch; ++b) e[b * dims + j] = T(1);
  return e;
}

}  // namespace

template <typename T>
Tensor<T> draw_probe(ProbeKind kind, std::size_t batch, std::size_t dims, Rng& rng) {
  if (kind == ProbeKind::Gaussian) return rng.normal<T>({batch, dims});
  Tensor<T> v({batch, dims});
  for (std::size_t i = 0; i < v.numel(); ++i) v[i] = rng.bernoulli(0.5) ? T(1) : T(-1);
  return v;
}

template <typename T>
Var<T> power_series_logdet(const ResidualJacobian<T>& J, std::size_t terms, const Tensor<T>& probe) {
  check_probe(J, probe, "power_series_logdet");
  if (terms == 0) throw std::invalid_argument("power_series_logdet: needs at least one term");
  const Var<T> v(probe);
  Var<T> power = v;  // J^k v
  Var<T> total;
  for (std::size_t k = 1; k <= terms; ++k) {
    power = J.jvp(power);
    const double coefficient = (k % 2 == 1 ? 1.0 : -1.0) / double(k);
    const Var<T> term = sum(mul(v, power), 1) * T(coefficient);
    total = total.defined() ? total + term : term;
  }
  return total;
}

template <typename T>
Var<T> neumann_logdet(const ResidualJacobian<T>& J, const Tensor<T>& probe, const std::vector<double>& survival) {
  check_probe(J, probe, "neumann_logdet");
  const std::size_t n = survival.size();
  if (n == 0) throw std::invalid_argument("neumann_logdet: needs at least one term");
  // The one differentiable product, J v; its value is also the first power of the series.
  const Var<T> jv = J.jvp(Var<T>(probe));
  // Value: sum_k (-1)^{k+1} / k * v^T J^k v / P(N >= k), by constant products.
  std::vector<double> value(J.batch, 0.0);
  Tensor<T> power = jv.value();
  for (std::size_t k = 1; k <= n; ++k) {
    if (k > 1) power = J.jvp_value(power);
    const double coefficient = (k % 2 == 1 ? 1.0 : -1.0) / (double(k) * survival[k - 1]);
    const std::vector<double> d = row_dots(probe, power);
    for (std::size_t b = 0; b < J.batch; ++b) value[b] += coefficient * d[b];
  }
  // w^T = sum_{k=0}^{n-1} (-1)^k / P(N >= k+1) * v^T J^k, by vector-Jacobian products.
  Tensor<T> row = probe;  // v^T J^k
  Tensor<T> w({J.batch, J.dims});
  for (std::size_t k = 0; k < n; ++k) {
    if (k > 0) row = J.vjp_value(row);
    const T coefficient = T((k % 2 == 0 ? 1.0 : -1.0) / survival[k]);
    for (std::size_t i = 0; i < w.numel(); ++i) w[i] += coefficient * row[i];
  }
  const Var<T> surrogate = sum(mul(Var<T>(w), jv), 1);
  Tensor<T> out({J.batch});
  for (std::size_t b = 0; b < J.batch; ++b) out[b] = T(value[b]);
  return value_with_gradient_of(out, surrogate);
}

std::vector<double> draw_roulette_survival(const RouletteOptions& o, Rng& rng) {
  if (!(o.continue_probability >= 0 && o.continue_probability < 1) || o.max_terms < std::max<std::size_t>(o.exact_terms, 1))
    throw std::invalid_argument("russian roulette: continue probability must be in [0, 1) and max_terms >= "
                                "max(exact_terms, 1)");
  std::vector<double> survival;
  for (std::size_t k = 1; k <= std::max<std::size_t>(o.exact_terms, 1); ++k) survival.push_back(1.0);
  double p = 1.0;
  while (survival.size() < o.max_terms && rng.bernoulli(o.continue_probability)) {
    p *= o.continue_probability;
    survival.push_back(p);
  }
  return survival;
}

template <typename T>
Var<T> russian_roulette_logdet(const ResidualJacobian<T>& J, const RouletteOptions& options, const Tensor<T>& probe,
                               Rng& rng) {
  return neumann_logdet(J, probe, draw_roulette_survival(options, rng));
}

template <typename T>
Tensor<T> jacobian_matrices(const ResidualJacobian<T>& J) {
  const std::size_t B = J.batch, D = J.dims;
  Tensor<T> out({B, D, D});
  for (std::size_t j = 0; j < D; ++j) {
    const Tensor<T> column = J.jvp_value(basis_rows<T>(B, D, j));
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t i = 0; i < D; ++i) out[(b * D + i) * D + j] = column[b * D + i];
  }
  return out;
}

template <typename T>
Var<T> exact_logdet(const ResidualJacobian<T>& J) {
  const std::size_t B = J.batch, D = J.dims;
  std::vector<Var<T>> columns;  // J e_j, differentiable
  for (std::size_t j = 0; j < D; ++j) columns.push_back(J.jvp(Var<T>(basis_rows<T>(B, D, j))));
  Tensor<T> value({B});
  std::vector<Tensor<T>> weights;  // weights[j][b, i] = M_b[j, i] (own buffers: copies of a Tensor share one)
  for (std::size_t j = 0; j < D; ++j) weights.push_back(Tensor<T>({B, D}));
  Tensor<T> A({D, D});
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t i = 0; i < D; ++i)
      for (std::size_t j = 0; j < D; ++j) A[i * D + j] = (i == j ? T(1) : T(0)) + columns[j].value()[b * D + i];
    const LUDecomposition<T> lu = lu_decompose(A);
    if (lu.singular)
      throw std::runtime_error("exact_logdet: I + J is singular at sample " + std::to_string(b) +
                               " (the residual branch is not contractive)");
    value[b] = slogdet(lu).logabsdet;
    const Tensor<T> M = inverse(lu);
    for (std::size_t j = 0; j < D; ++j)
      for (std::size_t i = 0; i < D; ++i) weights[j][b * D + i] = M[j * D + i];
  }
  // d log|det(I + J)| = tr(M dJ) = sum_j sum_i M[j, i] dJ[i, j], and column j holds J[., j].
  Var<T> surrogate;
  for (std::size_t j = 0; j < D; ++j) {
    const Var<T> part = sum(mul(Var<T>(weights[j]), columns[j]), 1);
    surrogate = surrogate.defined() ? surrogate + part : part;
  }
  return value_with_gradient_of(value, surrogate);
}

#define FZ_INSTANTIATE(T)                                                                                       \
  template Tensor<T> draw_probe<T>(ProbeKind, std::size_t, std::size_t, Rng&);                                 \
  template Var<T> power_series_logdet<T>(const ResidualJacobian<T>&, std::size_t, const Tensor<T>&);           \
  template Var<T> neumann_logdet<T>(const ResidualJacobian<T>&, const Tensor<T>&, const std::vector<double>&); \
  template Var<T> russian_roulette_logdet<T>(const ResidualJacobian<T>&, const RouletteOptions&,               \
                                             const Tensor<T>&, Rng&);                                          \
  template Tensor<T> jacobian_matrices<T>(const ResidualJacobian<T>&);                                         \
  template Var<T> exact_logdet<T>(const ResidualJacobian<T>&);
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
