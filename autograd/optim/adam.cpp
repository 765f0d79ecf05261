// autograd/optim/adam.cpp — fused, vectorised Adam / AdamW / Adamax updates.
//
// Each update is one pass over the parameter: the loop body is a generic lambda run on
// xsimd batches and then on scalars for the tail, so the formula is written once.
#include "autograd/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include <xsimd/xsimd.hpp>

#include "tensor/parallel.hpp"

namespace fz {

namespace {

template <typename V, typename T>
V get(const T* p) {
  if constexpr (std::is_same_v<V, T>) return *p;
  else return V::load_unaligned(p);
}

template <typename T>
void put(T* p, T v) { *p = v; }
template <typename T, typename A>
void put(T* p, const xsimd::batch<T, A>& v) { v.store_unaligned(p); }

// body(k, V{}) processes elements [k, k + width of V); V is xsimd::batch<T> or T.
// Threads get whole vectors, so every element but the last n % W takes the batch form
// whatever the thread count: the scalar form can round differently (the compiler may fuse
// its multiply-adds), and with chunk tails on the scalar form an update depended on where the
// chunk boundaries fell, i.e. on the number of threads.
template <typename T, typename Body>
void simd_for(std::size_t n, const Body& body) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  const std::size_t vectors = n / W;
  parallel_for(vectors, std::max<std::size_t>(1, kParallelGrain / W),
               [&](std::size_t begin, std::size_t end) {
                 for (std::size_t v = begin; v < end; ++v) body(v * W, B(T(0)));
               });
  for (std::size_t k = vectors * W; k < n; ++k) body(k, T(0));
}

}  // namespace

// ---- Adam / AdamW ------------------------------------------------------------------------

template <typename T>
Adam<T>::Adam(std::vector<Var<T>> params, const AdamOptions& options)
    : Optimizer<T>(std::move(params), options.lr), options_(options) {
  const std::string who = "Adam";
  this->check_beta(options.beta1, "beta1", who);
  this->check_beta(options.beta2, "beta2", who);
  this->check_non_negative(options.eps, "eps", who);
  this->check_non_negative(options.weight_decay, "weight_decay", who);
  exp_avg_ = this->add_state_slot("exp_avg");
  exp_avg_sq_ = this->add_state_slot("exp_avg_sq");
}

template <typename T>
void Adam<T>::adam_update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t,
                          bool decoupled) {
  const double lr = this->lr();
  const double b1 = options_.beta1, b2 = options_.beta2;
  // Bias corrections in double: 1 - b^t loses digits in float for b near 1.
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(b2, static_cast<double>(t));
  const T step_size = static_cast<T>(lr / bc1);
  const T inv_sqrt_bc2 = static_cast<T>(1.0 / std::sqrt(bc2));
  const T eps = static_cast<T>(options_.eps);
  const T beta1 = static_cast<T>(b1), one_minus_b1 = static_cast<T>(1.0 - b1);
  const T beta2 = static_cast<T>(b2), one_minus_b2 = static_cast<T>(1.0 - b2);
  const T wd = decoupled ? T(0) : static_cast<T>(options_.weight_decay);
  const T shrink = decoupled ? static_cast<T>(1.0 - lr * options_.weight_decay) : T(1);
  T* p = value.data();
  const T* gr = grad.data();
  T* m = this->state(exp_avg_, i).data();
  T* v = this->state(exp_avg_sq_, i).data();
  simd_for<T>(value.numel(), [&](std::size_t k, auto tag) {
    using V = decltype(tag);
    V pk = get<V>(p + k);
    const V g = get<V>(gr + k) + wd * pk;
    const V mk = beta1 * get<V>(m + k) + one_minus_b1 * g;
    const V vk = beta2 * get<V>(v + k) + one_minus_b2 * g * g;
    pk = shrink * pk;
    pk = pk - step_size * mk / (xsimd::sqrt(vk) * inv_sqrt_bc2 + eps);
    put(m + k, mk);
    put(v + k, vk);
    put(p + k, pk);
  });
}

template <typename T>
void Adam<T>::update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t) {
  adam_update(i, value, grad, t, false);
}

template <typename T>
void AdamW<T>::update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t) {
  this->adam_update(i, value, grad, t, true);
}

// ---- Adamax ------------------------------------------------------------------------------

template <typename T>
Adamax<T>::Adamax(std::vector<Var<T>> params, const AdamOptions& options)
    : Optimizer<T>(std::move(params), options.lr), options_(options) {
  const std::string who = "Adamax";
  this->check_beta(options.beta1, "beta1", who);
  this->check_beta(options.beta2, "beta2", who);
  this->check_non_negative(options.eps, "eps", who);
  this->check_non_negative(options.weight_decay, "weight_decay", who);
  exp_avg_ = this->add_state_slot("exp_avg");
  exp_inf_ = this->add_state_slot("exp_inf");
}

namespace {
AdamOptions adamax_options(double lr) {
  AdamOptions o;
  o.lr = lr;
  return o;
}
}  // namespace

template <typename T>
Adamax<T>::Adamax(std::vector<Var<T>> params, double lr)
    : Adamax(std::move(params), adamax_options(lr)) {}

template <typename T>
void Adamax<T>::update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t) {
  const double b1 = options_.beta1;
  const T clr = static_cast<T>(this->lr() / (1.0 - std::pow(b1, static_cast<double>(t))));
  const T eps = static_cast<T>(options_.eps);
  const T beta1 = static_cast<T>(b1), one_minus_b1 = static_cast<T>(1.0 - b1);
  const T beta2 = static_cast<T>(options_.beta2);
  const T wd = static_cast<T>(options_.weight_decay);
  T* p = value.data();
  const T* gr = grad.data();
  T* m = this->state(exp_avg_, i).data();
  T* u = this->state(exp_inf_, i).data();
  simd_for<T>(value.numel(), [&](std::size_t k, auto tag) {
    using V = decltype(tag);
    V pk = get<V>(p + k);
    const V g = get<V>(gr + k) + wd * pk;
    const V mk = beta1 * get<V>(m + k) + one_minus_b1 * g;
    const V uk = xsimd::max(beta2 * get<V>(u + k), xsimd::abs(g) + eps);
    pk = pk - clr * mk / uk;
    put(m + k, mk);
    put(u + k, uk);
    put(p + k, pk);
  });
}

template class Adam<float>;
template class Adam<double>;
template class AdamW<float>;
template class AdamW<double>;
template class Adamax<float>;
template class Adamax<double>;

}  // namespace fz
