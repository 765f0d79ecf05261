// flows/bijectors/actnorm.cpp — channel_affine (the fused per-channel affine op), ActNorm's
// data-dependent initialisation, and the ActNorm bijector / ActNormLayer.

// GCC 12 reports false -W(maybe-)uninitialized warnings inside its own AVX-512 intrinsics
// (GCC PR105593) where xsimd inlines them; the pragma must precede every include (see
// tensor/elementwise.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "flows/bijectors/actnorm.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/simd.hpp"

namespace fz {

namespace {

// (B, C, inner) view of a (B, C, ...) shape.
struct ChannelGeom {
  std::size_t batch, channels, inner;
  std::size_t rows() const { return batch * channels; }
};

ChannelGeom channel_geom(const Shape& s, std::size_t channels, const char* op) {
  if (s.size() < 2 || s[1] != channels)
    throw std::invalid_argument(std::string(op) + ": expected an input (B, " +
                                std::to_string(channels) + ", ...), got shape " + shape_str(s));
  return {s[0], s[1], s[0] * s[1] == 0 ? 0 : shape_numel(s) / (s[0] * s[1])};
}

// Rows of `inner` elements per parallel chunk: about kParallelGrain elements each.
std::size_t row_grain(std::size_t inner) {
  return std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(1, inner));
}

// sum_i a[i] * b[i], two SIMD accumulators.
template <typename T>
T dot_range(const T* a, const T* b, std::size_t n) {
  using B = simd::batch<T>;
  constexpr std::size_t W = simd::width<T>;
  B s0(T(0)), s1(T(0));
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    s0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
    s1 = xsimd::fma(B::load_unaligned(a + i + W), B::load_unaligned(b + i + W), s1);
  }
  for (; i + W <= n; i += W) s0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
  if (i < n) s1 = xsimd::fma(simd::load_partial(a + i, n - i), simd::load_partial(b + i, n - i), s1);
  return xsimd::hadd(s0 + s1);
}

// A (B,) log-det whose every entry is the 0-d `value` (differentiably).
template <typename T>
Var<T> per_sample(const Var<T>& value, std::size_t batch) {
  return zero_logdet<T>(batch) + reshape(value, Shape{1});
}

// y = x * scale_c + shift_c per channel (clamped at 0 when relu), after checking the shapes;
// the forward pass shared by channel_affine and channel_affine_relu.
template <typename T>
Tensor<T> channel_affine_forward(const Var<T>& x, const Var<T>& scale, const Var<T>& shift,
                                 bool relu, const char* op, ChannelGeom& g) {
  if (scale.dim() != 1 || shift.shape() != scale.shape())
    throw std::invalid_argument(std::string(op) + ": scale and shift must both be (C), got " +
                                shape_str(scale.shape()) + " and " + shape_str(shift.shape()));
  g = channel_geom(x.shape(), scale.shape()[0], op);
  Tensor<T> y = Tensor<T>::empty(x.shape());
  const T* xp = x.value().data();
  const T* sp = scale.value().data();
  const T* tp = shift.value().data();
  T* yp = y.data();
  parallel_for(g.rows(), row_grain(g.inner), [&](std::size_t r0, std::size_t r1) {
    const simd::batch<T> zero(T(0));
    for (std::size_t r = r0; r < r1; ++r) {
      const simd::batch<T> s(sp[r % g.channels]), t(tp[r % g.channels]);
      const std::size_t o = r * g.inner;
      if (relu)
        simd::map_range(o, o + g.inner, yp,
                        [&](const simd::batch<T>& v) { return xsimd::max(xsimd::fma(v, s, t), zero); }, xp);
      else
        simd::map_range(o, o + g.inner, yp, [&](const simd::batch<T>& v) { return xsimd::fma(v, s, t); }, xp);
    }
  });
  return y;
}

// Per-(sample, channel) partial sums -> per-channel totals, summed over the batch in a fixed
// order (deterministic for any thread count).
template <typename T>
Tensor<T> per_channel(const std::vector<T>& rows, const ChannelGeom& g) {
  Tensor<T> out({g.channels});
  for (std::size_t b = 0; b < g.batch; ++b)
    for (std::size_t c = 0; c < g.channels; ++c) out[c] += rows[b * g.channels + c];
  return out;
}

}  // namespace

// ---- channel_affine --------------------------------------------------------------------------

template <typename T>
Var<T> channel_affine(const Var<T>& x, const Var<T>& scale, const Var<T>& shift) {
  ChannelGeom g{};
  Tensor<T> y = channel_affine_forward(x, scale, shift, /*relu=*/false, "channel_affine", g);
  // dL/dx = G * scale_c;  dL/dscale_c = sum G x;  dL/dshift_c = sum G
  return record_op("channel_affine", y, {x, scale, shift}, [x, scale, shift, g](const Tensor<T>& grad) {
    const bool need_x = x.requires_grad(), need_s = scale.requires_grad(), need_t = shift.requires_grad();
    Tensor<T> gx = need_x ? Tensor<T>::empty(x.shape()) : Tensor<T>();
    // Per-row partial sums, combined over the batch afterwards in a fixed order (deterministic).
    std::vector<T> row_gx(need_s ? g.rows() : 0), row_g(need_t ? g.rows() : 0);
    const T* gp = grad.data();
    const T* xp = x.value().data();
    const T* sp = scale.value().data();
    T* gxp = gx.data();
    parallel_for(g.rows(), row_grain(g.inner), [&](std::size_t r0, std::size_t r1) {
      for (std::size_t r = r0; r < r1; ++r) {
        const std::size_t o = r * g.inner;
        if (need_x) {
          const simd::batch<T> s(sp[r % g.channels]);
          simd::map_range(o, o + g.inner, gxp, [&](const simd::batch<T>& v) { return v * s; }, gp);
        }
        if (need_s) row_gx[r] = dot_range(gp + o, xp + o, g.inner);
        if (need_t) row_g[r] = simd::sum_range(gp + o, g.inner);
      }
    });
    if (need_x) x.accumulate_grad(std::move(gx));
    if (need_s) scale.accumulate_grad(per_channel(row_gx, g));
    if (need_t) shift.accumulate_grad(per_channel(row_g, g));
  });
}

// ---- channel_affine_relu ---------------------------------------------------------------------

// y = max(0, x * scale_c + shift_c): ActNorm followed by ReLU inside Glow's coupling network,
// in one pass. Unfused, the tape would hold three activation-sized tensors per layer (conv out,
// affine out, relu out) and the backward would make two passes; here it holds two and makes one.
// With m = [y > 0]: dL/dx = G m scale_c;  dL/dscale_c = sum G m x;  dL/dshift_c = sum G m.
// The backward recomputes y > 0 from x with the same fma instead of reading y: bit-identical
// mask, one activation-sized read fewer (the pass is memory-bound).
template <typename T>
Var<T> channel_affine_relu(const Var<T>& x, const Var<T>& scale, const Var<T>& shift) {
  ChannelGeom g{};
  Tensor<T> y = channel_affine_forward(x, scale, shift, /*relu=*/true, "channel_affine_relu", g);
  return record_op("channel_affine_relu", y, {x, scale, shift}, [x, scale, shift, g](const Tensor<T>& grad) {
    const bool need_x = x.requires_grad(), need_s = scale.requires_grad(), need_t = shift.requires_grad();
    Tensor<T> gx = need_x ? Tensor<T>::empty(x.shape()) : Tensor<T>();
    // Per-row partial sums, combined over the batch afterwards in a fixed order (deterministic).
    std::vector<T> row_gx(g.rows()), row_g(g.rows());
    const T* gp = grad.data();
    const T* xp = x.value().data();
    const T* sp = scale.value().data();
    const T* tp = shift.value().data();
    T* gxp = gx.data();
    parallel_for(g.rows(), row_grain(g.inner), [&](std::size_t r0, std::size_t r1) {
      using B = simd::batch<T>;
      constexpr std::size_t W = simd::width<T>;
      const B zero(T(0));
      for (std::size_t r = r0; r < r1; ++r) {
        const B s(sp[r % g.channels]), t(tp[r % g.channels]);
        const std::size_t o = r * g.inner, end = o + g.inner;
        B acc_gx(T(0)), acc_g(T(0));
        std::size_t i = o;
        auto step = [&](const B& gv, const B& xv) {
          const B gm = xsimd::select(xsimd::fma(xv, s, t) > zero, gv, zero);  // the ReLU's mask
          acc_gx = xsimd::fma(gm, xv, acc_gx);
          acc_g += gm;
          return gm * s;
        };
        for (; i + W <= end; i += W) {
          const B d = step(B::load_unaligned(gp + i), B::load_unaligned(xp + i));
          if (need_x) d.store_unaligned(gxp + i);
        }
        if (i < end) {
          const std::size_t k = end - i;
          const B d = step(simd::load_partial(gp + i, k), simd::load_partial(xp + i, k));
          if (need_x) simd::store_partial(d, gxp + i, k);
        }
        alignas(64) T lanes_gx[W], lanes_g[W];
        acc_gx.store_aligned(lanes_gx);
        acc_g.store_aligned(lanes_g);
        T sgx = T(0), sg = T(0);
        for (std::size_t l = 0; l < W; ++l) {
          sgx += lanes_gx[l];
          sg += lanes_g[l];
        }
        row_gx[r] = sgx;
        row_g[r] = sg;
      }
    });
    if (need_x) x.accumulate_grad(std::move(gx));
    if (need_s) scale.accumulate_grad(per_channel(row_gx, g));
    if (need_t) shift.accumulate_grad(per_channel(row_g, g));
  });
}

// ---- shared state ----------------------------------------------------------------------------

namespace detail {

template <typename T>
void ActNormState<T>::maybe_initialise(const Var<T>& x, bool training, const char* who) {
  if (!training || initialised[0] != T(0)) return;
  const std::size_t C = bias.shape()[0];
  const ChannelGeom g = channel_geom(x.shape(), C, who);
  const std::size_t count = g.batch * g.inner;
  if (count == 0) throw std::invalid_argument(std::string(who) + ": cannot initialise from an empty batch");
  // Two passes in double: mean, then the mean squared deviation (population variance).
  const T* xp = x.value().data();
  std::vector<double> mean(C, 0.0), var(C, 0.0);
  for (std::size_t r = 0; r < g.rows(); ++r) {
    double s = 0;
    for (std::size_t i = 0; i < g.inner; ++i) s += xp[r * g.inner + i];
    mean[r % C] += s;
  }
  for (double& m : mean) m /= double(count);
  for (std::size_t r = 0; r < g.rows(); ++r) {
    const double m = mean[r % C];
    double s = 0;
    for (std::size_t i = 0; i < g.inner; ++i) {
      const double d = xp[r * g.inner + i] - m;
      s += d * d;
    }
    var[r % C] += s;
  }
  Tensor<T>& b = bias.mutable_value();
  Tensor<T>& l = logs.mutable_value();
  for (std::size_t c = 0; c < C; ++c) {
    // 1e-6 keeps a constant channel finite (as openai/glow does).
    b[c] = T(-mean[c]);
    l[c] = T(-std::log(std::sqrt(var[c] / double(count)) + 1e-6));
  }
  initialised[0] = T(1);
}

template <typename T>
Var<T> ActNormState<T>::apply(const Var<T>& x) const {
  // (x + b) * e^l = x * e^l + b * e^l
  Var<T> s = exp(logs);
  return channel_affine(x, s, bias * s);
}

template <typename T>
Var<T> ActNormState<T>::apply_relu(const Var<T>& x) const {
  Var<T> s = exp(logs);
  return channel_affine_relu(x, s, bias * s);
}

template <typename T>
Var<T> ActNormState<T>::apply_inverse(const Var<T>& y) const {
  // y * e^-l - b
  return channel_affine(y, exp(neg(logs)), neg(bias));
}

}  // namespace detail

namespace {
template <typename T>
detail::ActNormState<T> make_state(std::size_t channels, const char* who) {
  if (channels == 0) throw std::invalid_argument(std::string(who) + ": channels must be positive");
  return {};
}
}  // namespace

// ---- ActNorm (bijector) ----------------------------------------------------------------------

template <typename T>
ActNorm<T>::ActNorm(std::size_t channels)
    : channels_(channels), state_(make_state<T>(channels, "ActNorm")) {
  state_.bias = this->register_parameter("bias", Tensor<T>({channels}));
  state_.logs = this->register_parameter("logs", Tensor<T>({channels}));
  state_.initialised = this->register_buffer("initialised", Tensor<T>({1}));
}

template <typename T>
Transformed<T> ActNorm<T>::forward(const Var<T>& x) {
  state_.maybe_initialise(x, this->is_training(), "ActNorm");
  const ChannelGeom g = channel_geom(x.shape(), channels_, "ActNorm");
  // log|det| = H W sum(logs)
  return {state_.apply(x), per_sample(sum(state_.logs) * T(g.inner), g.batch)};
}

template <typename T>
Transformed<T> ActNorm<T>::inverse(const Var<T>& y) {
  const ChannelGeom g = channel_geom(y.shape(), channels_, "ActNorm");
  return {state_.apply_inverse(y), per_sample(sum(state_.logs) * T(-double(g.inner)), g.batch)};
}

// ---- ActNormLayer (plain layer) --------------------------------------------------------------

template <typename T>
ActNormLayer<T>::ActNormLayer(std::size_t channels)
    : channels_(channels), state_(make_state<T>(channels, "ActNormLayer")) {
  state_.bias = this->register_parameter("bias", Tensor<T>({channels}));
  state_.logs = this->register_parameter("logs", Tensor<T>({channels}));
  state_.initialised = this->register_buffer("initialised", Tensor<T>({1}));
}

template <typename T>
Var<T> ActNormLayer<T>::forward(const Var<T>& x) {
  state_.maybe_initialise(x, this->is_training(), "ActNormLayer");
  return state_.apply(x);
}

template <typename T>
Var<T> ActNormLayer<T>::forward_relu(const Var<T>& x) {
  state_.maybe_initialise(x, this->is_training(), "ActNormLayer");
  return state_.apply_relu(x);
}

template <typename T>
Var<T> ActNormLayer<T>::conv_forward_relu(const Var<T>& x, const Var<T>& weight,
                                          std::size_t padding) {
  if (needs_initialisation()) return forward_relu(conv2d(x, weight, Var<T>(), 1, padding));
  const auto [s, t] = scale_and_shift();  // then ReLU, fused into the convolution
  return conv2d_affine(x, weight, s, t, /*relu=*/true, 1, padding);
}

template <typename T>
std::pair<Var<T>, Var<T>> ActNormLayer<T>::scale_and_shift() const {
  // (z + b) e^l = z e^l + b e^l
  const Var<T> s = exp(state_.logs);
  return {s, state_.bias * s};
}

template Var<float> channel_affine<float>(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<double> channel_affine<double>(const Var<double>&, const Var<double>&, const Var<double>&);
template Var<float> channel_affine_relu<float>(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<double> channel_affine_relu<double>(const Var<double>&, const Var<double>&, const Var<double>&);
template struct detail::ActNormState<float>;
template struct detail::ActNormState<double>;
template class ActNorm<float>;
template class ActNorm<double>;
template class ActNormLayer<float>;
template class ActNormLayer<double>;

}  // namespace fz
