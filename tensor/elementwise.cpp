// tensor/elementwise.cpp — unary, scalar, broadcasting binary, in-place and gradient-helper
// kernels. Each kernel is one lambda on xsimd batches handed to a shared driver: simd::map
// for equal shapes, and binary() below for NumPy broadcasting. Each public kernel first hands
// over to its plain xtensor form (tensor/elementwise_reference.cpp) when reference_ops() is on.
#include "tensor/elementwise.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/broadcast.hpp"
#include "tensor/elementwise_reference.hpp"
#include "tensor/parallel.hpp"
#include "tensor/reference_mode.hpp"
#include "tensor/simd.hpp"

namespace fz {

namespace {

template <typename T>
using B = simd::batch<T>;

template <typename T, typename F>
Tensor<T> unary(const Tensor<T>& x, const F& f) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  simd::map(x.numel(), y.data(), f, x.data());
  return y;
}

template <typename T>
void check_same(const Tensor<T>& a, const Tensor<T>& b, const char* what) {
  check_same_shape(a.shape(), b.shape(), what);
}

// True when the operand strides along the collapsed axes are those of a dense row-major array.
bool dense(const std::vector<std::size_t>& sizes, const std::vector<std::size_t>& st) {
  std::size_t acc = 1;
  for (std::size_t k = sizes.size(); k-- > 0;) {
    if (st[k] != acc) return false;
    acc *= sizes[k];
  }
  return true;
}

// One period of a broadcast operand: x viewed through the collapsed axes 1..d-1 (axis 0 is
// the one it repeats along). Shares x's buffer when that view is already dense.
template <typename T>
std::vector<T> gather_period(const T* x, const std::vector<std::size_t>& sizes,
                             const std::vector<std::size_t>& st) {
  std::vector<std::size_t> s(sizes.begin() + 1, sizes.end()), t(st.begin() + 1, st.end());
  const std::size_t L = s.back();
  std::size_t P = 1;
  for (std::size_t v : s) P *= v;
  std::vector<T> out(P);
  simd::OuterCounter it(s, t, t, s.size() - 1);
  for (std::size_t r = 0; r < P / L; ++r, it.next())
    for (std::size_t j = 0; j < L; ++j) out[r * L + j] = x[it.oa + j * t.back()];
  return out;
}

// out[i] = f(x[i], tile[i mod P]) for a dense x of n elements: the periodic broadcast of
// (N,F) op (F,) and of (N,C,H,W) op (C,1,1) once (C,1,1) is expanded to one C*H*W period.
// Short periods are repeated up to lcm(P, W) so that blocks have no SIMD tail.
template <typename T, typename F>
void periodic(std::size_t n, T* out, const T* x, const T* period, std::size_t P, const F& f) {
  constexpr std::size_t W = simd::width<T>;
  std::vector<T> rep;
  std::size_t TL = P;
  if (P % W != 0 && P < 4 * W) {
    TL = P / std::gcd(P, W) * W;
    rep.resize(TL);
    for (std::size_t j = 0; j < TL; ++j) rep[j] = period[j % P];
    period = rep.data();
  }
  const std::size_t nblk = (n + TL - 1) / TL;
  parallel_for(nblk, std::max<std::size_t>(1, kParallelGrain / TL), [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) {
      const std::size_t start = b * TL, len = std::min(TL, n - start);
      simd::map_range(0, len, out + start, f, x + start, period);
    }
  });
}

// out = f(a, b) with NumPy broadcasting. f maps (batch, batch) -> batch.
template <typename T, typename F>
Tensor<T> binary(const Tensor<T>& a, const Tensor<T>& b, const F& f, const char* what) {
  if (a.shape() == b.shape()) {
    Tensor<T> out = Tensor<T>::empty(a.shape());
    simd::map(a.numel(), out.data(), f, a.data(), b.data());
    return out;
  }
  const BroadcastPlan p = make_broadcast_plan(a.shape(), b.shape(), what);
  Tensor<T> out = Tensor<T>::empty(p.out_shape);
  const std::size_t n = p.numel;
  if (n == 0) return out;
  const T* pa = a.data();
  const T* pb = b.data();
  T* po = out.data();
  // A one-element operand: a flat loop against a broadcast register.
  if (b.numel() == 1 && a.numel() == n) {
    const B<T> vb(pb[0]);
    simd::map(n, po, [&](const B<T>& x) { return f(x, vb); }, pa);
    return out;
  }
  if (a.numel() == 1 && b.numel() == n) {
    const B<T> va(pa[0]);
    simd::map(n, po, [&](const B<T>& y) { return f(va, y); }, pb);
    return out;
  }
  const std::size_t d = p.sizes.size();
  if (d == 1 && p.a_stride[0] == 1 && p.b_stride[0] == 1) {  // equal up to size-1 axes
    simd::map(n, po, f, pa, pb);
    return out;
  }
  // One dense operand, the other repeating along the outermost collapsed axis.
  if (d >= 2 && p.b_stride[0] == 0 && dense(p.sizes, p.a_stride)) {
    const std::size_t P = n / p.sizes[0];
    std::vector<T> g;
    const T* period = pb;
    if (!dense(std::vector<std::size_t>(p.sizes.begin() + 1, p.sizes.end()),
               std::vector<std::size_t>(p.b_stride.begin() + 1, p.b_stride.end()))) {
      g = gather_period(pb, p.sizes, p.b_stride);
      period = g.data();
    }
    periodic(n, po, pa, period, P, f);
    return out;
  }
  if (d >= 2 && p.a_stride[0] == 0 && dense(p.sizes, p.b_stride)) {
    const std::size_t P = n / p.sizes[0];
    std::vector<T> g;
    const T* period = pa;
    if (!dense(std::vector<std::size_t>(p.sizes.begin() + 1, p.sizes.end()),
               std::vector<std::size_t>(p.a_stride.begin() + 1, p.a_stride.end()))) {
      g = gather_period(pa, p.sizes, p.a_stride);
      period = g.data();
    }
    periodic(n, po, pb, period, P, [&](const B<T>& y, const B<T>& x) { return f(x, y); });
    return out;
  }
  // General broadcast: rows of the innermost collapsed axis, outer axes walked by a counter.
  const std::size_t L = p.sizes.back(), rows = n / L;
  const bool da = p.a_stride.back() != 0, db = p.b_stride.back() != 0;
  parallel_for(rows, std::max<std::size_t>(1, kParallelGrain / L), [&](std::size_t r0, std::size_t r1) {
    simd::OuterCounter it(p.sizes, p.a_stride, p.b_stride, d - 1);
    it.seek(r0);
    for (std::size_t r = r0; r < r1; ++r, it.next()) {
      T* o = po + r * L;
      if (da && db) {
        simd::map_range(0, L, o, f, pa + it.oa, pb + it.ob);
      } else if (da) {
        const B<T> vb(pb[it.ob]);
        simd::map_range(0, L, o, [&](const B<T>& x) { return f(x, vb); }, pa + it.oa);
      } else {
        const B<T> va(pa[it.oa]);
        simd::map_range(0, L, o, [&](const B<T>& y) { return f(va, y); }, pb + it.ob);
      }
    }
  });
  return out;
}

}  // namespace

// ---- unary -----------------------------------------------------------------------------

template <typename T>
Tensor<T> neg(const Tensor<T>& x) {
  if (reference_ops()) return reference::neg(x);
  return unary(x, [](const B<T>& v) { return -v; });
}
template <typename T>
Tensor<T> exp(const Tensor<T>& x) {
  if (reference_ops()) return reference::exp(x);
  return unary(x, [](const B<T>& v) { return xsimd::exp(v); });
}
template <typename T>
Tensor<T> expm1(const Tensor<T>& x) {
  if (reference_ops()) return reference::expm1(x);
  return unary(x, [](const B<T>& v) { return xsimd::expm1(v); });
}
template <typename T>
Tensor<T> log(const Tensor<T>& x) {
  if (reference_ops()) return reference::log(x);
  return unary(x, [](const B<T>& v) { return xsimd::log(v); });
}
template <typename T>
Tensor<T> log1p(const Tensor<T>& x) {
  if (reference_ops()) return reference::log1p(x);
  return unary(x, [](const B<T>& v) { return xsimd::log1p(v); });
}
template <typename T>
Tensor<T> sqrt(const Tensor<T>& x) {
  if (reference_ops()) return reference::sqrt(x);
  return unary(x, [](const B<T>& v) { return xsimd::sqrt(v); });
}
template <typename T>
Tensor<T> rsqrt(const Tensor<T>& x) {
  if (reference_ops()) return reference::rsqrt(x);
  return unary(x, [](const B<T>& v) { return B<T>(T(1)) / xsimd::sqrt(v); });
}
template <typename T>
Tensor<T> reciprocal(const Tensor<T>& x) {
  if (reference_ops()) return reference::reciprocal(x);
  return unary(x, [](const B<T>& v) { return B<T>(T(1)) / v; });
}
template <typename T>
Tensor<T> abs(const Tensor<T>& x) {
  if (reference_ops()) return reference::abs(x);
  return unary(x, [](const B<T>& v) { return xsimd::abs(v); });
}
template <typename T>
Tensor<T> sign(const Tensor<T>& x) {
  if (reference_ops()) return reference::sign(x);
  return unary(x, [](const B<T>& v) {
    const B<T> zero(T(0));
    return xsimd::select(v > zero, B<T>(T(1)), xsimd::select(v < zero, B<T>(T(-1)), zero));
  });
}
template <typename T>
Tensor<T> square(const Tensor<T>& x) {
  if (reference_ops()) return reference::square(x);
  return unary(x, [](const B<T>& v) { return v * v; });
}
template <typename T>
Tensor<T> tanh(const Tensor<T>& x) {
  if (reference_ops()) return reference::tanh(x);
  return unary(x, [](const B<T>& v) { return xsimd::tanh(v); });
}
template <typename T>
Tensor<T> sigmoid(const Tensor<T>& x) {
  if (reference_ops()) return reference::sigmoid(x);
  // 1 / (1 + e^-x): e^-x overflows to inf for very negative x, giving exactly 0 — no NaN.
  return unary(x, [](const B<T>& v) { return B<T>(T(1)) / (B<T>(T(1)) + xsimd::exp(-v)); });
}
template <typename T>
Tensor<T> logsigmoid(const Tensor<T>& x) {
  if (reference_ops()) return reference::logsigmoid(x);
  return unary(x, [](const B<T>& v) {
    return xsimd::min(v, B<T>(T(0))) - xsimd::log1p(xsimd::exp(-xsimd::abs(v)));
  });
}
template <typename T>
Tensor<T> softplus(const Tensor<T>& x) {
  if (reference_ops()) return reference::softplus(x);
  return unary(x, [](const B<T>& v) {
    return xsimd::max(v, B<T>(T(0))) + xsimd::log1p(xsimd::exp(-xsimd::abs(v)));
  });
}
template <typename T>
Tensor<T> relu(const Tensor<T>& x) {
  if (reference_ops()) return reference::relu(x);
  return unary(x, [](const B<T>& v) { return xsimd::max(v, B<T>(T(0))); });
}
template <typename T>
Tensor<T> leaky_relu(const Tensor<T>& x, type_identity_t<T> slope) {
  if (reference_ops()) return reference::leaky_relu(x, slope);
  return unary(x, [slope](const B<T>& v) { return xsimd::select(v > B<T>(T(0)), v, v * B<T>(slope)); });
}
template <typename T>
Tensor<T> elu(const Tensor<T>& x, type_identity_t<T> alpha) {
  if (reference_ops()) return reference::elu(x, alpha);
  return unary(x, [alpha](const B<T>& v) {
    return xsimd::select(v > B<T>(T(0)), v, B<T>(alpha) * xsimd::expm1(v));
  });
}
template <typename T>
Tensor<T> clamp(const Tensor<T>& x, type_identity_t<T> lo, type_identity_t<T> hi) {
  if (reference_ops()) return reference::clamp(x, lo, hi);
  if (!(lo <= hi))
    throw std::invalid_argument("clamp: lower bound " + std::to_string(lo) +
                                " is above upper bound " + std::to_string(hi));
  return unary(x, [lo, hi](const B<T>& v) { return xsimd::min(xsimd::max(v, B<T>(lo)), B<T>(hi)); });
}
template <typename T>
Tensor<T> pow(const Tensor<T>& x, type_identity_t<T> p) {
  if (reference_ops()) return reference::pow(x, p);
  if (p == T(1)) return x.clone();
  if (p == T(0.5)) return sqrt(x);
  if (p == std::trunc(p) && std::abs(p) <= T(64)) {
    const int ip = static_cast<int>(p);  // exact repeated squaring, sign-correct for x < 0
    return unary(x, [ip](const B<T>& v) { return xsimd::pow(v, ip); });
  }
  return unary(x, [p](const B<T>& v) { return xsimd::pow(v, B<T>(p)); });
}

// ---- scalar operand ----------------------------------------------------------------------

template <typename T>
Tensor<T> add_scalar(const Tensor<T>& x, type_identity_t<T> s) {
  if (reference_ops()) return reference::add_scalar(x, s);
  return unary(x, [s](const B<T>& v) { return v + B<T>(s); });
}
template <typename T>
Tensor<T> mul_scalar(const Tensor<T>& x, type_identity_t<T> s) {
  if (reference_ops()) return reference::mul_scalar(x, s);
  return unary(x, [s](const B<T>& v) { return v * B<T>(s); });
}
template <typename T>
Tensor<T> affine_scalar(const Tensor<T>& x, type_identity_t<T> a, type_identity_t<T> b) {
  if (reference_ops()) return reference::affine_scalar(x, a, b);
  return unary(x, [a, b](const B<T>& v) { return xsimd::fma(B<T>(a), v, B<T>(b)); });
}
template <typename T>
Tensor<T> scalar_div(type_identity_t<T> s, const Tensor<T>& x) {
  if (reference_ops()) return reference::scalar_div(s, x);
  return unary(x, [s](const B<T>& v) { return B<T>(s) / v; });
}

// ---- binary --------------------------------------------------------------------------------

template <typename T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  if (reference_ops()) return reference::add(a, b);
  return binary(a, b, [](const B<T>& x, const B<T>& y) { return x + y; }, "add");
}
template <typename T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  if (reference_ops()) return reference::sub(a, b);
  return binary(a, b, [](const B<T>& x, const B<T>& y) { return x - y; }, "sub");
}
template <typename T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  if (reference_ops()) return reference::mul(a, b);
  return binary(a, b, [](const B<T>& x, const B<T>& y) { return x * y; }, "mul");
}
template <typename T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  if (reference_ops()) return reference::div(a, b);
  return binary(a, b, [](const B<T>& x, const B<T>& y) { return x / y; }, "div");
}
template <typename T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  if (reference_ops()) return reference::maximum(a, b);
  return binary(a, b, [](const B<T>& x, const B<T>& y) { return xsimd::max(x, y); }, "maximum");
}
template <typename T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  if (reference_ops()) return reference::minimum(a, b);
  return binary(a, b, [](const B<T>& x, const B<T>& y) { return xsimd::min(x, y); }, "minimum");
}
template <typename T>
Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b) {
  if (reference_ops()) return reference::pow(a, b);
  return binary(a, b, [](const B<T>& x, const B<T>& y) { return xsimd::pow(x, y); }, "pow");
}
template <typename T>
Tensor<T> maximum_weight(const Tensor<T>& a, const Tensor<T>& b) {
  if (reference_ops()) return reference::maximum_weight(a, b);
  return binary(a, b, [](const B<T>& x, const B<T>& y) {
    const B<T> zero(T(0));
    return xsimd::select(x > y, B<T>(T(1)), xsimd::select(x == y, B<T>(T(0.5)), zero));
  }, "maximum");
}

template <typename T>
Tensor<T> affine_elementwise(const Tensor<T>& x, const Tensor<T>& scale, const Tensor<T>& shift) {
  if (reference_ops()) return reference::affine_elementwise(x, scale, shift);
  const auto fma3 = [](const B<T>& v, const B<T>& s, const B<T>& t) { return xsimd::fma(v, s, t); };
  if (scale.shape() == shift.shape()) {
    if (scale.shape() == x.shape()) {
      Tensor<T> out = Tensor<T>::empty(x.shape());
      simd::map(x.numel(), out.data(), fma3, x.data(), scale.data(), shift.data());
      return out;
    }
    if (scale.numel() == 1 && broadcastable_to(scale.shape(), x.shape())) {
      Tensor<T> out = Tensor<T>::empty(x.shape());
      const B<T> s(scale[0]), t(shift[0]);
      simd::map(x.numel(), out.data(), [&](const B<T>& v) { return xsimd::fma(v, s, t); }, x.data());
      return out;
    }
    if (broadcastable_to(scale.shape(), x.shape()) && x.numel() > 0) {
      const BroadcastPlan p = make_broadcast_plan(x.shape(), scale.shape(), "affine_elementwise");
      if (p.sizes.size() >= 2 && p.b_stride[0] == 0) {
        // (N,C,H,W) with (C,1,1) scale/shift: expand both to one period and run fused.
        const std::size_t n = p.numel, P = n / p.sizes[0];
        const std::vector<T> sp = gather_period(scale.data(), p.sizes, p.b_stride);
        const std::vector<T> tp = gather_period(shift.data(), p.sizes, p.b_stride);
        Tensor<T> out = Tensor<T>::empty(x.shape());
        const T* xs = x.data();
        T* po = out.data();
        constexpr std::size_t W = simd::width<T>;
        const std::size_t nrow = n / P;
        // Rows of one period each; short periods pay a padded tail per row, which is
        // still cheaper than the two broadcast passes of the fallback.
        (void)W;
        parallel_for(nrow, std::max<std::size_t>(1, kParallelGrain / P), [&](std::size_t r0, std::size_t r1) {
          for (std::size_t r = r0; r < r1; ++r)
            simd::map_range(0, P, po + r * P, fma3, xs + r * P, sp.data(), tp.data());
        });
        return out;
      }
    }
  }
  return add(mul(x, scale), shift);
}

// ---- in place --------------------------------------------------------------------------------

template <typename T>
void add_inplace(Tensor<T>& dst, const Tensor<T>& src) {
  if (reference_ops()) return reference::add_inplace(dst, src);
  check_same(dst, src, "add_inplace");
  simd::map(dst.numel(), dst.data(), [](const B<T>& x, const B<T>& y) { return x + y; }, dst.data(), src.data());
}
template <typename T>
void sub_inplace(Tensor<T>& dst, const Tensor<T>& src) {
  if (reference_ops()) return reference::sub_inplace(dst, src);
  check_same(dst, src, "sub_inplace");
  simd::map(dst.numel(), dst.data(), [](const B<T>& x, const B<T>& y) { return x - y; }, dst.data(), src.data());
}
template <typename T>
void mul_inplace(Tensor<T>& dst, const Tensor<T>& src) {
  if (reference_ops()) return reference::mul_inplace(dst, src);
  check_same(dst, src, "mul_inplace");
  simd::map(dst.numel(), dst.data(), [](const B<T>& x, const B<T>& y) { return x * y; }, dst.data(), src.data());
}
template <typename T>
void axpy_inplace(Tensor<T>& dst, type_identity_t<T> alpha, const Tensor<T>& src) {
  if (reference_ops()) return reference::axpy_inplace(dst, alpha, src);
  check_same(dst, src, "axpy_inplace");
  const B<T> a(alpha);
  simd::map(dst.numel(), dst.data(), [&](const B<T>& x, const B<T>& y) { return xsimd::fma(a, y, x); },
            dst.data(), src.data());
}
template <typename T>
void axpby_inplace(Tensor<T>& dst, type_identity_t<T> alpha, const Tensor<T>& src, type_identity_t<T> beta) {
  if (reference_ops()) return reference::axpby_inplace(dst, alpha, src, beta);
  check_same(dst, src, "axpby_inplace");
  const B<T> a(alpha), bt(beta);
  simd::map(dst.numel(), dst.data(),
            [&](const B<T>& x, const B<T>& y) { return xsimd::fma(a, y, bt * x); }, dst.data(), src.data());
}
template <typename T>
void scale_inplace(Tensor<T>& dst, type_identity_t<T> alpha) {
  if (reference_ops()) return reference::scale_inplace(dst, alpha);
  const B<T> a(alpha);
  simd::map(dst.numel(), dst.data(), [&](const B<T>& x) { return x * a; }, dst.data());
}
template <typename T>
void add_scalar_inplace(Tensor<T>& dst, type_identity_t<T> s) {
  if (reference_ops()) return reference::add_scalar_inplace(dst, s);
  const B<T> a(s);
  simd::map(dst.numel(), dst.data(), [&](const B<T>& x) { return x + a; }, dst.data());
}

// ---- gradient helpers ------------------------------------------------------------------------

namespace {
template <typename T, typename F>
Tensor<T> grad2(const Tensor<T>& g, const Tensor<T>& x, const char* what, const F& f) {
  check_same(g, x, what);
  Tensor<T> out = Tensor<T>::empty(g.shape());
  simd::map(g.numel(), out.data(), f, g.data(), x.data());
  return out;
}
}  // namespace

template <typename T>
Tensor<T> sigmoid_backward(const Tensor<T>& g, const Tensor<T>& y) {
  if (reference_ops()) return reference::sigmoid_backward(g, y);
  return grad2(g, y, "sigmoid_backward", [](const B<T>& gv, const B<T>& yv) { return gv * yv * (B<T>(T(1)) - yv); });
}
template <typename T>
Tensor<T> tanh_backward(const Tensor<T>& g, const Tensor<T>& y) {
  if (reference_ops()) return reference::tanh_backward(g, y);
  return grad2(g, y, "tanh_backward", [](const B<T>& gv, const B<T>& yv) { return gv * (B<T>(T(1)) - yv * yv); });
}
template <typename T>
Tensor<T> relu_backward(const Tensor<T>& g, const Tensor<T>& x) {
  if (reference_ops()) return reference::relu_backward(g, x);
  return grad2(g, x, "relu_backward", [](const B<T>& gv, const B<T>& xv) {
    return xsimd::select(xv > B<T>(T(0)), gv, B<T>(T(0)));
  });
}
template <typename T>
Tensor<T> leaky_relu_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> slope) {
  if (reference_ops()) return reference::leaky_relu_backward(g, x, slope);
  return grad2(g, x, "leaky_relu_backward", [slope](const B<T>& gv, const B<T>& xv) {
    return xsimd::select(xv > B<T>(T(0)), gv, gv * B<T>(slope));
  });
}
template <typename T>
Tensor<T> elu_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& y, type_identity_t<T> alpha) {
  if (reference_ops()) return reference::elu_backward(g, x, y, alpha);
  check_same(g, x, "elu_backward");
  check_same(g, y, "elu_backward");
  Tensor<T> out = Tensor<T>::empty(g.shape());
  simd::map(g.numel(), out.data(), [alpha](const B<T>& gv, const B<T>& xv, const B<T>& yv) {
    return xsimd::select(xv > B<T>(T(0)), gv, gv * (yv + B<T>(alpha)));
  }, g.data(), x.data(), y.data());
  return out;
}
template <typename T>
Tensor<T> clamp_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> lo, type_identity_t<T> hi) {
  if (reference_ops()) return reference::clamp_backward(g, x, lo, hi);
  return grad2(g, x, "clamp_backward", [lo, hi](const B<T>& gv, const B<T>& xv) {
    return xsimd::select((xv >= B<T>(lo)) && (xv <= B<T>(hi)), gv, B<T>(T(0)));
  });
}
template <typename T>
Tensor<T> abs_backward(const Tensor<T>& g, const Tensor<T>& x) {
  if (reference_ops()) return reference::abs_backward(g, x);
  return grad2(g, x, "abs_backward", [](const B<T>& gv, const B<T>& xv) {
    const B<T> zero(T(0));
    return xsimd::select(xv > zero, gv, xsimd::select(xv < zero, -gv, zero));
  });
}
template <typename T>
Tensor<T> softplus_backward(const Tensor<T>& g, const Tensor<T>& x) {
  if (reference_ops()) return reference::softplus_backward(g, x);
  return grad2(g, x, "softplus_backward", [](const B<T>& gv, const B<T>& xv) {
    return gv / (B<T>(T(1)) + xsimd::exp(-xv));
  });
}
template <typename T>
Tensor<T> logsigmoid_backward(const Tensor<T>& g, const Tensor<T>& x) {
  if (reference_ops()) return reference::logsigmoid_backward(g, x);
  return grad2(g, x, "logsigmoid_backward", [](const B<T>& gv, const B<T>& xv) {
    return gv / (B<T>(T(1)) + xsimd::exp(xv));
  });
}
template <typename T>
Tensor<T> log1p_backward(const Tensor<T>& g, const Tensor<T>& x) {
  if (reference_ops()) return reference::log1p_backward(g, x);
  return grad2(g, x, "log1p_backward", [](const B<T>& gv, const B<T>& xv) { return gv / (B<T>(T(1)) + xv); });
}
template <typename T>
Tensor<T> sqrt_backward(const Tensor<T>& g, const Tensor<T>& y) {
  if (reference_ops()) return reference::sqrt_backward(g, y);
  return grad2(g, y, "sqrt_backward", [](const B<T>& gv, const B<T>& yv) { return gv / (yv + yv); });
}
template <typename T>
Tensor<T> pow_backward(const Tensor<T>& g, const Tensor<T>& x, type_identity_t<T> p) {
  if (reference_ops()) return reference::pow_backward(g, x, p);
  const T q = p - T(1);
  if (q == std::trunc(q) && std::abs(q) <= T(64)) {
    const int iq = static_cast<int>(q);
    return grad2(g, x, "pow_backward", [p, iq](const B<T>& gv, const B<T>& xv) {
      return gv * B<T>(p) * xsimd::pow(xv, iq);
    });
  }
  return grad2(g, x, "pow_backward", [p, q](const B<T>& gv, const B<T>& xv) {
    return gv * B<T>(p) * xsimd::pow(xv, B<T>(q));
  });
}

// ---- explicit instantiations -------------------------------------------------------------------

#define FZ_EW_INSTANTIATE(T)                                                                 \
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

FZ_EW_INSTANTIATE(float)
FZ_EW_INSTANTIATE(double)
#undef FZ_EW_INSTANTIATE

}  // namespace fz
