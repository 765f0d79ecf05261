// flows/transformers/affine.cpp — RealNVP's affine transformer and its fused split-coupling
// forward (affine_coupling_tanh).
#include "flows/transformers/affine.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "flows/channel_split.hpp"
#include "tensor/simd.hpp"

namespace fz {

template <typename T>
AffineTransformer<T>::AffineTransformer(std::size_t channels, bool learned_scale)
    : channels_(channels), learned_scale_(learned_scale) {
  if (channels == 0) throw std::invalid_argument("AffineTransformer: needs at least one channel");
  if (learned_scale) scale_ = this->register_parameter("scale", Tensor<T>({channels}, T(1)));
}

template <typename T>
std::pair<Var<T>, Var<T>> AffineTransformer<T>::log_scale_and_shift(const Var<T>& x, const Var<T>& params,
                                                                    const char* who) const {
  Shape want = x.shape();
  if (want.size() >= 2) want[1] *= 2;
  if (x.dim() < 2 || x.shape()[1] != channels_ || params.shape() != want)
    throw std::invalid_argument(std::string(who) + ": built for " + std::to_string(channels_) +
                                " channels with parameters (B, " + std::to_string(2 * channels_) +
                                ", ...) (s then t); got input " + shape_str(x.shape()) + " and parameters " +
                                shape_str(params.shape()));
  auto [s, t] = channel_halves(params);
  Var<T> log_s = tanh(s);
  if (learned_scale_) {
    Shape bs(params.dim(), 1);  // (1, k, 1, 1) for images, (1, k) for vectors
    bs[1] = channels_;
    log_s = log_s * reshape(scale_, bs);
  }
  return {log_s, t};
}

template <typename T>
Elementwise<T> AffineTransformer<T>::forward(const Var<T>& x, const Var<T>& params) {
  auto [log_s, t] = log_scale_and_shift(x, params, "AffineTransformer::forward");
  return {x * exp(log_s) + t, log_s};
}

template <typename T>
Elementwise<T> AffineTransformer<T>::inverse(const Var<T>& y, const Var<T>& params) {
  auto [log_s, t] = log_scale_and_shift(y, params, "AffineTransformer::inverse");
  return {(y - t) * exp(-log_s), -log_s};
}

template <typename T>
Transformed<T> AffineTransformer<T>::fused_coupling_forward(const Var<T>& x, const Var<T>& params,
                                                            const Partition& partition) {
  return affine_coupling_tanh(x, params, partition);
}

namespace {

// dst[0..n) = src[0..n). The 2-D toy copies runs of one element, where a memmove call per
// element would cost more than the whole op's arithmetic.
template <typename T>
inline void copy_run(const T* src, std::size_t n, T* dst) {
  if (n == 1)
    *dst = *src;
  else
    std::copy(src, src + n, dst);
}

}  // namespace

// Layout: x and the output are (n, c, inner), h is (n, 2k, inner) with k = c / 2; per sample,
// s is h's first m = k * inner values and t the next m. `saved` holds log_s = tanh(s) and
// e = exp(log_s), each (n, m), computed once and shared by both ops' backward.
//   y_a = x_a,  y_b = x_b e + t                 dL/dx_a = G_a,  dL/dx_b = G_b e,
//                                               dL/dt = G_b,    dL/ds = G_b x_b e (1 - log_s^2)
//   logdet = sum_m log_s                        dL/ds = g (1 - log_s^2)
template <typename T>
Transformed<T> affine_coupling_tanh(const Var<T>& x, const Var<T>& h, const Partition& partition) {
  if (partition.is_masked())
    throw std::invalid_argument("affine_coupling_tanh: needs a split partition, got " +
                                partition.name());
  const Shape& xs = x.shape();
  const Shape& hs = h.shape();
  if (xs.size() < 2 || xs[1] % 2 != 0 || hs.size() != xs.size() || hs[0] != xs[0] ||
      hs[1] != xs[1] || !std::equal(xs.begin() + 2, xs.end(), hs.begin() + 2))
    throw std::invalid_argument("affine_coupling_tanh: input " + shape_str(xs) +
                                " and net output " + shape_str(hs) +
                                " do not fit (expected (B, C, ...) with C even and the same "
                                "shape for both)");
  const std::size_t n = xs[0], c = xs[1], k = c / 2;
  const std::size_t inner = xs.size() > 2 ? shape_numel(Shape(xs.begin() + 2, xs.end())) : 1;
  const std::size_t m = k * inner;
  Tensor<T> saved = Tensor<T>::empty({2, n * m});
  T* ls = saved.data();
  T* e = ls + n * m;
  const T* hv = h.value().data();
  for (std::size_t b = 0; b < n; ++b) copy_run(hv + b * 2 * m, m, ls + b * m);
  simd::map(n * m, ls, [](const simd::batch<T>& v) { return xsimd::tanh(v); }, ls);
  simd::map(n * m, e, [](const simd::batch<T>& v) { return xsimd::exp(v); }, ls);

  const std::vector<std::size_t> a_ch = [&] {
    std::vector<std::size_t> ch(k);
    for (std::size_t j = 0; j < k; ++j) ch[j] = partition.conditioning_channel(j, c);
    return ch;
  }();
  std::vector<std::size_t> b_ch(k);
  for (std::size_t j = 0; j < k; ++j) b_ch[j] = partition.transformed_channel(j, c);

  const T* xv = x.value().data();
  Tensor<T> y = Tensor<T>::empty(xs);
  T* yv = y.data();
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t ao = (b * c + a_ch[j]) * inner, bo = (b * c + b_ch[j]) * inner;
      const std::size_t so = b * m + j * inner, to = b * 2 * m + m + j * inner;
      copy_run(xv + ao, inner, yv + ao);
      for (std::size_t r = 0; r < inner; ++r) yv[bo + r] = xv[bo + r] * e[so + r] + hv[to + r];
    }
  Var<T> value = record_op("affine_coupling", std::move(y), {x, h},
                           [x, h, saved, a_ch, b_ch, n, c, m, inner](const Tensor<T>& g) {
    const std::size_t k = c / 2;
    const T* ls = saved.data();
    const T* e = ls + n * m;
    const T* gv = g.data();
    if (x.requires_grad()) {
      Tensor<T> dx = Tensor<T>::empty(x.value().shape());
      T* d = dx.data();
      for (std::size_t b = 0; b < n; ++b)
        for (std::size_t j = 0; j < k; ++j) {
          const std::size_t ao = (b * c + a_ch[j]) * inner, bo = (b * c + b_ch[j]) * inner;
          const std::size_t so = b * m + j * inner;
          copy_run(gv + ao, inner, d + ao);
          for (std::size_t r = 0; r < inner; ++r) d[bo + r] = gv[bo + r] * e[so + r];
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
            d[hs + r] = gb * xv[bo + r] * e[so + r] * (T(1) - l * l);
            d[hs + m + r] = gb;
          }
        }
      h.accumulate_grad(std::move(dh));
    }
  });

  Tensor<T> ld = Tensor<T>::empty({n});
  for (std::size_t b = 0; b < n; ++b) {
    T sum = T(0);
    for (std::size_t i = 0; i < m; ++i) sum += ls[b * m + i];
    ld[b] = sum;
  }
  Var<T> logdet = record_op("affine_coupling_logdet", std::move(ld), {h},
                            [h, saved, n, m](const Tensor<T>& g) {
    const T* ls = saved.data();
    Tensor<T> dh(h.value().shape());  // zero on t
    T* d = dh.data();
    for (std::size_t b = 0; b < n; ++b)
      for (std::size_t i = 0; i < m; ++i) {
        const T l = ls[b * m + i];
        d[b * 2 * m + i] = g[b] * (T(1) - l * l);
      }
    h.accumulate_grad(std::move(dh));
  });
  return {value, logdet};
}

#define FZ_INSTANTIATE(T)                                                                      \
  template class AffineTransformer<T>;                                                         \
  template Transformed<T> affine_coupling_tanh<T>(const Var<T>&, const Var<T>&, const Partition&);
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
