// flows/bijectors/affine_coupling.cpp — RealNVP affine coupling (vectors and images).
#include "flows/bijectors/affine_coupling.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "flows/channel_split.hpp"
#include "flows/conditioners/mlp.hpp"
#include "flows/conditioners/resnet.hpp"
#include "tensor/simd.hpp"

namespace fz {

template <typename T>
AffineCoupling<T>::AffineCoupling(std::size_t channels, Partition partition,
                                  std::shared_ptr<Layer<T>> net, bool learned_scale)
    : channels_(channels),
      transformed_(partition.transformed_channels(channels)),
      partition_(partition),
      learned_scale_(learned_scale) {
  if (!net) throw std::invalid_argument("AffineCoupling: null conditioner network");
  if (channels == 0 || (partition.kind != PartitionKind::Checkerboard && channels % 2 != 0))
    throw std::invalid_argument("AffineCoupling: " + partition.name() +
                                " needs an even, positive number of channels, got " +
                                std::to_string(channels));
  net_ = this->register_module("net", std::move(net));
  if (learned_scale) scale_ = this->register_parameter("scale", Tensor<T>({transformed_}, T(1)));
}

template <typename T>
std::pair<Var<T>, Var<T>> AffineCoupling<T>::scale_shift(const Var<T>& cond,
                                                         const Tensor<T>* keep_out) const {
  Var<T> h = net_->forward(cond);
  if (h.dim() < 2 || h.shape()[1] != 2 * transformed_)
    throw std::invalid_argument("AffineCoupling: the net must output " +
                                std::to_string(2 * transformed_) + " channels, got " +
                                shape_str(h.shape()));
  auto [s, t] = channel_halves(h);
  Var<T> log_s = tanh(s);
  if (learned_scale_) {
    Shape bs(h.dim(), 1);  // (1, k, 1, 1) for images, (1, k) for vectors
    bs[1] = transformed_;
    log_s = log_s * reshape(scale_, bs);
  }
  if (keep_out) {
    Var<T> k(*keep_out);
    log_s = log_s * k;
    t = t * k;
  }
  return {log_s, t};
}

template <typename T>
Transformed<T> AffineCoupling<T>::forward(const Var<T>& x) {
  partition_.check_shape(x.shape(), "AffineCoupling::forward");
  if (x.shape()[1] != channels_)
    throw std::invalid_argument("AffineCoupling::forward: built for " + std::to_string(channels_) +
                                " channels, got input " + shape_str(x.shape()));
  if (partition_.is_masked()) {
    const Tensor<T> m = partition_.mask<T>(x.shape()[2], x.shape()[3]);
    const Tensor<T> keep_out = add_scalar(mul_scalar(m, T(-1)), T(1));  // 1 - mask
    auto [log_s, t] = scale_shift(partition_.masked_conditioner_input(x, m), &keep_out);
    return {x * exp(log_s) + t, sum_per_sample(log_s)};
  }
  if (!learned_scale_) {  // one gather, the net, and the fused transform: 2 + net ops
    Var<T> h = net_->forward(partition_.conditioning_part(x));
    if (h.dim() < 2 || h.shape()[1] != 2 * transformed_)
      throw std::invalid_argument("AffineCoupling: the net must output " +
                                  std::to_string(2 * transformed_) + " channels, got " +
                                  shape_str(h.shape()));
    return affine_coupling_tanh(x, h, partition_);
  }
  auto [a, b] = partition_.split(x);
  auto [log_s, t] = scale_shift(a, nullptr);
  return {partition_.merge(a, b * exp(log_s) + t), sum_per_sample(log_s)};
}

template <typename T>
Transformed<T> AffineCoupling<T>::inverse(const Var<T>& y) {
  partition_.check_shape(y.shape(), "AffineCoupling::inverse");
  if (y.shape()[1] != channels_)
    throw std::invalid_argument("AffineCoupling::inverse: built for " + std::to_string(channels_) +
                                " channels, got input " + shape_str(y.shape()));
  if (partition_.is_masked()) {
    const Tensor<T> m = partition_.mask<T>(y.shape()[2], y.shape()[3]);
    const Tensor<T> keep_out = add_scalar(mul_scalar(m, T(-1)), T(1));
    auto [log_s, t] = scale_shift(partition_.masked_conditioner_input(y, m), &keep_out);
    return {(y - t) * exp(-log_s), -sum_per_sample(log_s)};
  }
  auto [a, b] = partition_.split(y);
  auto [log_s, t] = scale_shift(a, nullptr);
  return {partition_.merge(a, (b - t) * exp(-log_s)), -sum_per_sample(log_s)};
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

template <typename T>
std::shared_ptr<AffineCoupling<T>> make_resnet_affine_coupling(std::size_t channels,
                                                               Partition partition,
                                                               std::size_t features,
                                                               std::size_t blocks, Rng& rng,
                                                               bool weight_norm,
                                                               bool learned_scale) {
  auto net = std::make_shared<ResNetConditioner<T>>(partition.conditioner_in_channels(channels),
                                                    features, blocks,
                                                    2 * partition.transformed_channels(channels),
                                                    rng, weight_norm, true);
  return std::make_shared<AffineCoupling<T>>(channels, partition, net, learned_scale);
}

template <typename T>
std::shared_ptr<AffineCoupling<T>> make_mlp_affine_coupling(std::size_t features, bool parity,
                                                            std::size_t hidden,
                                                            std::size_t n_hidden, Rng& rng,
                                                            bool learned_scale,
                                                            bool zero_init_last) {
  Partition p{PartitionKind::EvenOdd, parity};
  auto net = std::make_shared<MLP<T>>(p.conditioner_in_channels(features), hidden, n_hidden,
                                      2 * p.transformed_channels(features), rng, zero_init_last);
  return std::make_shared<AffineCoupling<T>>(features, p, net, learned_scale);
}

#define FZ_INSTANTIATE(T)                                                                      \
  template class AffineCoupling<T>;                                                            \
  template Transformed<T> affine_coupling_tanh<T>(const Var<T>&, const Var<T>&, const Partition&); \
  template std::shared_ptr<AffineCoupling<T>> make_resnet_affine_coupling<T>(                  \
      std::size_t, Partition, std::size_t, std::size_t, Rng&, bool, bool);                     \
  template std::shared_ptr<AffineCoupling<T>> make_mlp_affine_coupling<T>(                     \
      std::size_t, bool, std::size_t, std::size_t, Rng&, bool, bool);
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
