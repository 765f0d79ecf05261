// flows/logdet_estimators.hpp — log|det(I + J)| for a residual map x -> x + g(x) whose Jacobian
// J = J_g is only available through products (Behrmann et al. 2019, Chen et al. 2019). With
// Lip(g) < 1, log det(I + J) = sum_{k>=1} (-1)^{k+1} tr(J^k) / k, and tr(A) = E[v^T A v] for a
// probe v with E[v v^T] = I (Hutchinson). Three estimators, per sample (shape (B,)):
//
//   power_series_logdet    the series truncated at n terms, one probe: built from the
//                          differentiable J v, so its gradient is the exact gradient of the
//                          (biased) estimate. Costs n differentiable products.
//   russian_roulette_logdet  unbiased: a random number of terms N (exact_terms + a geometric
//                          count), term k divided by P(N >= k). Value from constant products;
//                          the gradient from the Neumann series of d log det(I + J) =
//                          tr((I + J)^-1 dJ) = sum_k (-1)^k tr(J^k dJ): the surrogate w^T (J v)
//                          with the constant w^T = sum_{k=0}^{N-1} (-1)^k / P(N >= k+1) v^T J^k
//                          (vector-Jacobian products), so one differentiable product in all.
//                          neumann_logdet is that estimator for a given N and P(N >= k).
//   exact_logdet           D products along the basis vectors give J itself; log|det(I + J)|
//                          by LU per sample, the gradient from the surrogate tr(M J) with the
//                          constant M = (I + J)^-1. For small D (the 2-D models use it in eval
//                          mode, so their eval and density are deterministic).
// Each returns value + (s - stop_grad(s)) for its surrogate s: the value it reports, the
// gradient of s (for the series, s is the value itself). docs/bijector-logdets.md derives them.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "../autograd/var.hpp"
#include "../tensor/random.hpp"

namespace fz {

// Products with the Jacobian of g at a fixed batch of points x (B, D); t, r are (B, D).
template <typename T>
struct ResidualJacobian {
  std::size_t batch = 0, dims = 0;
  std::function<Var<T>(const Var<T>&)> jvp;            // J t, differentiable in t, x and g's parameters
  std::function<Tensor<T>(const Tensor<T>&)> jvp_value;  // J t, a constant
  std::function<Tensor<T>(const Tensor<T>&)> vjp_value;  // r^T J, a constant
};

enum class ProbeKind { Gaussian, Rademacher };

// A (batch, dims) Hutchinson probe: standard normal, or +-1 with probability 1/2 each.
template <typename T>
Tensor<T> draw_probe(ProbeKind kind, std::size_t batch, std::size_t dims, Rng& rng);

// sum_{k=1}^{terms} (-1)^{k+1} / k * v^T J^k v per sample (differentiable).
template <typename T>
Var<T> power_series_logdet(const ResidualJacobian<T>& J, std::size_t terms, const Tensor<T>& probe);

// The Neumann-gradient estimator for a given number of terms n = survival.size():
// value sum_{k=1}^{n} (-1)^{k+1} / k * v^T J^k v / survival[k-1], gradient of w^T (J v) with
// w^T = sum_{k=0}^{n-1} (-1)^k / survival[k] * v^T J^k. survival[k-1] = P(N >= k) (all 1: the
// truncated series with the Neumann gradient).
template <typename T>
Var<T> neumann_logdet(const ResidualJacobian<T>& J, const Tensor<T>& probe, const std::vector<double>& survival);

struct RouletteOptions {
  std::size_t exact_terms = 2;        // terms always computed (weight 1)
  double continue_probability = 0.5;  // q: P(N >= k + 1 | N >= k) beyond them
  std::size_t max_terms = 64;         // cap on N (the bias, q^(max - exact), is below 1e-18)
};

// Draws N = exact_terms + G (P(G >= j) = q^j, capped) and returns P(N >= k) for k = 1..N.
std::vector<double> draw_roulette_survival(const RouletteOptions& options, Rng& rng);

// Unbiased (up to the cap): neumann_logdet with a drawn N.
template <typename T>
Var<T> russian_roulette_logdet(const ResidualJacobian<T>& J, const RouletteOptions& options, const Tensor<T>& probe,
                               Rng& rng);

// log|det(I + J)| exactly, from the D columns J e_j (value exact, gradient exact).
template <typename T>
Var<T> exact_logdet(const ResidualJacobian<T>& J);

// The constant (B, D, D) matrices J of every sample (row i, column j = dg_i/dx_j): tests.
template <typename T>
Tensor<T> jacobian_matrices(const ResidualJacobian<T>& J);

}  // namespace fz
