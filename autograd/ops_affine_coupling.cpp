// autograd/ops_affine_coupling.cpp — affine_coupling_tanh (two ops sharing what the forward
// saved) and its plain form from primitive ops.
#include "autograd/ops_affine_coupling.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/copy_run.hpp"
#include "tensor/reference_mode.hpp"

namespace fz {

namespace {

// Throws std::invalid_argument unless x is (B, C, ...) with C even, h has x's shape, and the
// channel lists split 0..C-1 into two halves.
void check_coupling(const Shape& xs, const Shape& hs, const CouplingChannels& ch) {
  if (xs.size() < 2 || xs[1] % 2 != 0 || hs != xs)
    throw std::invalid_argument("affine_coupling_tanh: input " + shape_str(xs) + " and net output " +
                                shape_str(hs) +
                                " do not fit (expected (B, C, ...) with C even and the same shape for both)");
  const std::size_t c = xs[1], k = c / 2;
  std::vector<bool> seen(c, false);
  bool ok = ch.conditioning.size() == k && ch.transformed.size() == k;
  for (const auto* list : {&ch.conditioning, &ch.transformed})
    for (std::size_t i = 0; ok && i < list->size(); ++i) {
      const std::size_t j = (*list)[i];
      ok = j < c && !seen[j];
      if (ok) seen[j] = true;
    }
  if (!ok)
    throw std::invalid_argument("affine_coupling_tanh: the conditioning and transformed channels must split the " +
                                std::to_string(c) + " channels into two halves of " + std::to_string(k));
}

}  // namespace

// Layout: x and the output are (n, c, inner), h is (n, 2k, inner) with k = c / 2; per sample,
// s is h's first m = k * inner values and t the next m. log_s = tanh(s) and e = exp(log_s),
// each (n, m), are computed once and shared by both ops' backward.
//   y_a = x_a,  y_b = x_b e + t                 dL/dx_a = G_a,  dL/dx_b = G_b e,
//                                               dL/dt = G_b,    dL/ds = G_b x_b e (1 - log_s^2)
//   logdet = sum_m log_s                        dL/ds = g (1 - log_s^2)
template <typename T>
AffineCouplingOutput<T> affine_coupling_tanh(const Var<T>& x, const Var<T>& h,
                                             const CouplingChannels& channels) {
  if (reference_ops()) return affine_coupling_tanh_reference(x, h, channels);
  const Shape& xs = x.shape();
  check_coupling(xs, h.shape(), channels);
  const std::size_t n = xs[0], c = xs[1], k = c / 2;
  const std::size_t inner = xs.size() > 2 ? shape_numel(Shape(xs.begin() + 2, xs.end())) : 1;
  const std::size_t m = k * inner;
  const T* hv = h.value().data();
  Tensor<T> s = Tensor<T>::empty({n, m});
  for (std::size_t b = 0; b < n; ++b) copy_run(hv + b * 2 * m, m, s.data() + b * m);
  const Tensor<T> log_s = tanh(s);
  const Tensor<T> e = exp(log_s);
  const std::vector<std::size_t>& a_ch = channels.conditioning;
  const std::vector<std::size_t>& b_ch = channels.transformed;

  const T* xv = x.value().data();
  const T* ev = e.data();
  Tensor<T> y = Tensor<T>::empty(xs);
  T* yv = y.data();
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t ao = (b * c + a_ch[j]) * inner, bo = (b * c + b_ch[j]) * inner;
      const std::size_t so = b * m + j * inner, to = b * 2 * m + m + j * inner;
      copy_run(xv + ao, inner, yv + ao);
      for (std::size_t r = 0; r < inner; ++r) yv[bo + r] = xv[bo + r] * ev[so + r] + hv[to + r];
    }
  Var<T> value = record_op("affine_coupling", std::move(y), {x, h},
                           [x, h, log_s, e, a_ch, b_ch, n, c, m, inner](const Tensor<T>& g) {
    const std::size_t k = c / 2;
    const T* ls = log_s.data();
    const T* ev = e.data();
    const T* gv = g.data();
    if (x.requires_grad()) {
      Tensor<T> dx = Tensor<T>::empty(x.value().shape());
      T* d = dx.data();
      for (std::size_t b = 0; b < n; ++b)
        for (std::size_t j = 0; j < k; ++j) {
          const std::size_t ao = (b * c + a_ch[j]) * inner, bo = (b * c + b_ch[j]) * inner;
          const std::size_t so = b * m + j * inner;
          copy_run(gv + ao, inner, d + ao);
          for (std::size_t r = 0; r < inner; ++r) d[bo + r] = gv[bo + r] * ev[so + r];
        }
      x.accumulate_grad(std::move(dx));
    }
    if (h.requires_grad()) {
      Tensor<T> dh = Tensor<T>::empty(h.value().shape());
      T* d = dh.data();
      const T* xv = x.value().data();
      for (std::size_t b = 0; b < n; ++b)
        for (std::size_t j = 0; j < k; ++j) {
          const std::size_t bo = (b * c + b_ch[j]) * inner;
          const std::size_t so = b * m + j * inner, hs = b * 2 * m + j * inner;
          for (std::size_t r = 0; r < inner; ++r) {
            const T gb = gv[bo + r], l = ls[so + r];
            d[hs + r] = gb * xv[bo + r] * ev[so + r] * (T(1) - l * l);
            d[hs + m + r] = gb;
          }
        }
      h.accumulate_grad(std::move(dh));
    }
  });

  Tensor<T> ld = Tensor<T>::empty({n});
  for (std::size_t b = 0; b < n; ++b) {
    T sum = T(0);
    for (std::size_t i = 0; i < m; ++i) sum += log_s[b * m + i];
    ld[b] = sum;
  }
  Var<T> logdet = record_op("affine_coupling_logdet", std::move(ld), {h},
                            [h, log_s, n, m](const Tensor<T>& g) {
    Tensor<T> dh(h.value().shape());  // zero on t
    T* d = dh.data();
    for (std::size_t b = 0; b < n; ++b)
      for (std::size_t i = 0; i < m; ++i) {
        const T l = log_s[b * m + i];
        d[b * 2 * m + i] = g[b] * (T(1) - l * l);
      }
    h.accumulate_grad(std::move(dh));
  });
  return {value, logdet};
}

template <typename T>
AffineCouplingOutput<T> affine_coupling_tanh_reference(const Var<T>& x, const Var<T>& h,
                                                       const CouplingChannels& channels) {
  check_coupling(x.shape(), h.shape(), channels);
  const long c = static_cast<long>(x.shape()[1]), k = c / 2;
  const Var<T> log_s = tanh(slice(h, 1, 0, k));
  const Var<T> scale = exp(log_s);
  const Var<T> t = slice(h, 1, k, c);
  std::vector<Var<T>> out(static_cast<std::size_t>(c));
  for (long j = 0; j < k; ++j) {
    const long a = static_cast<long>(channels.conditioning[j]);
    const long b = static_cast<long>(channels.transformed[j]);
    out[a] = slice(x, 1, a, a + 1);
    out[b] = slice(x, 1, b, b + 1) * slice(scale, 1, j, j + 1) + slice(t, 1, j, j + 1);
  }
  std::vector<int> event_axes(x.dim() - 1);
  std::iota(event_axes.begin(), event_axes.end(), 1);
  return {concat(out, 1), sum(log_s, event_axes)};
}

#define FZ_AFFINE_COUPLING_INSTANTIATE(T)                                                      \
  template AffineCouplingOutput<T> affine_coupling_tanh(const Var<T>&, const Var<T>&,          \
                                                        const CouplingChannels&);              \
  template AffineCouplingOutput<T> affine_coupling_tanh_reference(const Var<T>&, const Var<T>&, \
                                                                  const CouplingChannels&);
FZ_AFFINE_COUPLING_INSTANTIATE(float)
FZ_AFFINE_COUPLING_INSTANTIATE(double)
#undef FZ_AFFINE_COUPLING_INSTANTIATE

}  // namespace fz
