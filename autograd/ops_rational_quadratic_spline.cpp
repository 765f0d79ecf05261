// autograd/ops_rational_quadratic_spline.cpp — forward, inverse and the shared backward of the
// fused rational-quadratic spline op (formulas in the header).
//
// Cost structure. Every element is independent; per element inside [-B, B] the forward reads
// its 3K - 1 parameters (stride k * inner in memory), takes 2K exps for the two softmaxes,
// builds the 2(K + 1) knots by cumulative sums, finds its bin by a branch-free count over K - 1
// knots, takes 2 softplus (only the derivatives at the bin's two ends are needed) and 2 logs.
// The backward recomputes the same (nothing per element is saved, so the tape holds only the
// op's inputs and outputs), then writes all 3K - 1 parameter gradients: O(K) per element. The
// per-element scratch (softmax probabilities and knots, 4K + 2 numbers) is one vector per
// thread chunk, so the loops do not allocate. Elements are split across threads above
// kSplineGrain elements. Tail elements cost one comparison. The arithmetic is scalar and in
// double for float tensors too (see Acc).
//
// rational_quadratic_spline_reference, at the end, builds the same map from primitive ops.
#include "autograd/ops_rational_quadratic_spline.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_index.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_scan.hpp"
#include "autograd/ops_softmax.hpp"
#include "tensor/parallel.hpp"
#include "tensor/reference_mode.hpp"

namespace fz {

namespace {

// Elements per thread chunk: one element costs about as much as a hundred elementwise-op
// elements, so the grain is far below kParallelGrain.
constexpr std::size_t kSplineGrain = 1024;

// Every element's arithmetic is done in double, also for float tensors: it costs little in
// this scalar code, and keeps float results accurate to their last bit for extreme parameters
// (the quadratic's discriminant, the difference of two nearby knots in a narrow bin).
using Acc = double;

// The options in the element type, plus the derived constants.
template <typename T>
struct SplineConstants {
  std::size_t bins;
  T bound;                    // B
  T min_width, min_height, min_derivative;
  T width_scale, height_scale;  // 1 - K * min_bin_width, 1 - K * min_bin_height
};

template <typename T>
SplineConstants<T> constants_of(const RationalQuadraticSplineOptions& o) {
  const double k = double(o.bins);
  return {o.bins,
          T(o.tail_bound),
          T(o.min_bin_width),
          T(o.min_bin_height),
          T(o.min_derivative),
          T(1.0 - k * o.min_bin_width),
          T(1.0 - k * o.min_bin_height)};
}

// p = softmax of the n values u[0], u[stride], ..., shifted by their maximum so no exp
// overflows (huge logits give a one-hot p, never inf or NaN).
template <typename P, typename T>
void softmax_strided(const P* u, std::size_t stride, std::size_t n, T* p) {
  T top = T(u[0]);
  for (std::size_t i = 1; i < n; ++i) top = std::max(top, T(u[i * stride]));
  T sum = T(0);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = std::exp(T(u[i * stride]) - top);
    sum += p[i];
  }
  const T inv = T(1) / sum;
  for (std::size_t i = 0; i < n; ++i) p[i] *= inv;
}

// knots[0..K] from softmax probabilities p: knots[i] = -B + 2B sum_{j<i} (min + scale p_j),
// with the ends set exactly so the spline meets the tails at -B and B without rounding.
template <typename T>
void knots_from(const T* p, std::size_t bins, T min_size, T scale, T bound, T* knots) {
  knots[0] = -bound;
  T cum = T(0);
  for (std::size_t i = 1; i < bins; ++i) {
    cum += min_size + scale * p[i - 1];
    knots[i] = -bound + T(2) * bound * cum;
  }
  knots[bins] = bound;
}

// The bin k in [0, K) with knots[k] <= v (v in [knots[0], knots[K]]): the number of interior
// knots at or below v, counted without branches.
template <typename T>
std::size_t find_bin(const T* knots, std::size_t bins, T v) {
  std::size_t k = 0;
  for (std::size_t i = 1; i < bins; ++i) k += static_cast<std::size_t>(v >= knots[i]);
  return k;
}

// One element's spline restricted to its bin: what the formulas of the header need.
template <typename T>
struct BinSpline {
  std::size_t k;     // bin index
  T xk, width;       // X_k, W = X_{k+1} - X_k
  T yk, height;      // Y_k, H = Y_{k+1} - Y_k
  T d0, d1;          // derivatives at X_k and X_{k+1}
  T sig0, sig1;      // d d0 / d theta_d[k-1] and d d1 / d theta_d[k] (sigmoids; 0 at the ends)
};

// d_i at knot i: 1 at the two boundary knots, min_derivative + softplus(theta_d[i-1]) inside;
// also its derivative sigmoid(theta_d[i-1]) (0 at the boundaries). Both from e = exp(-|u|),
// which never overflows: softplus(u) = max(u, 0) + log1p(e), sigmoid(u) = 1/(1+e) or e/(1+e).
template <typename P, typename T>
T knot_derivative(const P* theta, std::size_t stride, const SplineConstants<T>& c, std::size_t i,
                  T* sigmoid) {
  if (i == 0 || i == c.bins) {
    *sigmoid = T(0);
    return T(1);
  }
  const T u = T(theta[(2 * c.bins + i - 1) * stride]);
  const T e = std::exp(-std::abs(u));
  *sigmoid = u >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
  return c.min_derivative + std::max(u, T(0)) + std::log1p(e);
}

// Builds the element's knots into scratch (pw[K], ph[K], xs[K+1], ys[K+1]) and returns its bin
// for the point v, searched on the x-knots (forward) or the y-knots (inverse).
template <typename P, typename T>
BinSpline<T> locate(const P* theta, std::size_t stride, const SplineConstants<T>& c, T v,
                    bool inverse, T* scratch) {
  const std::size_t K = c.bins;
  T* pw = scratch;
  T* ph = pw + K;
  T* xs = ph + K;
  T* ys = xs + K + 1;
  softmax_strided(theta, stride, K, pw);
  softmax_strided(theta + K * stride, stride, K, ph);
  knots_from(pw, K, c.min_width, c.width_scale, c.bound, xs);
  knots_from(ph, K, c.min_height, c.height_scale, c.bound, ys);
  BinSpline<T> b;
  b.k = find_bin(inverse ? ys : xs, K, v);
  b.xk = xs[b.k];
  b.width = xs[b.k + 1] - xs[b.k];
  b.yk = ys[b.k];
  b.height = ys[b.k + 1] - ys[b.k];
  b.d0 = knot_derivative(theta, stride, c, b.k, &b.sig0);
  b.d1 = knot_derivative(theta, stride, c, b.k + 1, &b.sig1);
  return b;
}

// The rational-quadratic at position xi in the bin: y = Y_k + H num / den,
// log dy/dx = log(n2) + 2 log(s / den), with
//   s = H / W, t = xi (1 - xi), delta = d0 + d1 - 2s,
//   num = s xi^2 + d0 t, den = s + delta t, n2 = d1 xi^2 + 2 s t + d0 (1 - xi)^2.
// s / den lies in (0, 2] (den >= s (1 - 2t) >= s / 2), so the log never overflows even when
// dy/dx itself would.
template <typename T>
struct BinPoint {
  T xi, s, t, delta, num, den, n2;
  T value(const BinSpline<T>& b) const { return b.yk + b.height * num / den; }
  T log_derivative() const { return std::log(n2) + T(2) * std::log(s / den); }
};

template <typename T>
BinPoint<T> at(const BinSpline<T>& b, T xi) {
  BinPoint<T> p;
  p.xi = std::min(std::max(xi, T(0)), T(1));  // rounding may put xi an ulp outside [0, 1]
  p.s = b.height / b.width;
  p.t = p.xi * (T(1) - p.xi);
  p.delta = b.d0 + b.d1 - T(2) * p.s;
  p.num = p.s * p.xi * p.xi + b.d0 * p.t;
  p.den = p.s + p.delta * p.t;
  const T r = T(1) - p.xi;
  p.n2 = b.d1 * p.xi * p.xi + T(2) * p.s * p.t + b.d0 * r * r;
  return p;
}

// The inverse within the bin: with D = y - Y_k, y = Y_k + H num / den rearranges to
//   a xi^2 + b xi + c = 0,  a = H (s - d0) + D delta,  b = H d0 - D delta,  c = -s D,
// whose root in [0, 1] is 2c / (-b - sqrt(b^2 - 4ac)): c <= 0 and the denominator is < 0, so
// nothing cancels (the textbook (-b + sqrt(...)) / 2a loses all digits when a -> 0).
template <typename T>
T solve_xi(const BinSpline<T>& b, T y) {
  const T s = b.height / b.width;
  const T delta = b.d0 + b.d1 - T(2) * s;
  const T dy = y - b.yk;
  const T qa = b.height * (s - b.d0) + dy * delta;
  const T qb = b.height * b.d0 - dy * delta;
  const T qc = -s * dy;
  const T disc = std::max(qb * qb - T(4) * qa * qc, T(0));
  return T(2) * qc / (-qb - std::sqrt(disc));
}

// Gradient of alpha * y + beta * L (y the spline value, L = log dy/dx, both at fixed x) with
// respect to the bin's local quantities, and d/dx of the same. Derivatives (prime = d/dxi):
//   dy/dxi = H s n2 / den^2                       (= W dy/dx)
//   dy/ds  = H (xi^2 den - num (1 - 2t)) / den^2  (den' wrt s is 1 - 2t)
//   dy/dH  = num / den                            (at fixed s)
//   dy/dd0 = H t (s (1 - xi)^2 + d1 t) / den^2,   dy/dd1 = -H t num / den^2,  dy/dY_k = 1
//   dL/dxi = n2' / n2 - 2 delta (1 - 2 xi) / den, n2' = 2 (d1 xi + s (1 - 2 xi) - d0 (1 - xi))
//   dL/ds  = 2 / s + 2t / n2 - 2 (1 - 2t) / den
//   dL/dd0 = (1 - xi)^2 / n2 - 2t / den,          dL/dd1 = xi^2 / n2 - 2t / den
// and with xi = (x - X_k) / W, s = H / W:
//   d/dx = d/dxi / W,  d/dX_k = -d/dxi / W,  d/dW = -(xi d/dxi + s d/ds) / W,
//   d/dH (total) = d/dH (at fixed s) + d/ds / W.
template <typename T>
struct LocalGrad {
  T x, xk, width, yk, height, d0, d1;
};

template <typename T>
struct LocalPartials {
  T y_xi, y_s, y_h, y_d0, y_d1;
  T l_xi, l_s, l_d0, l_d1;
};

template <typename T>
LocalPartials<T> partials(const BinSpline<T>& b, const BinPoint<T>& p) {
  const T inv_den = T(1) / p.den;
  const T inv_den2 = inv_den * inv_den;
  const T inv_n2 = T(1) / p.n2;
  const T xi = p.xi, r = T(1) - xi, t = p.t, H = b.height;
  LocalPartials<T> q;
  q.y_xi = H * p.s * p.n2 * inv_den2;
  q.y_s = H * (xi * xi * p.den - p.num * (T(1) - T(2) * t)) * inv_den2;
  q.y_h = p.num * inv_den;
  q.y_d0 = H * t * (p.s * r * r + b.d1 * t) * inv_den2;
  q.y_d1 = -H * t * p.num * inv_den2;
  const T n2_xi = T(2) * (b.d1 * xi + p.s * (T(1) - T(2) * xi) - b.d0 * r);
  q.l_xi = n2_xi * inv_n2 - T(2) * p.delta * (T(1) - T(2) * xi) * inv_den;
  q.l_s = T(2) / p.s + T(2) * t * inv_n2 - T(2) * (T(1) - T(2) * t) * inv_den;
  q.l_d0 = r * r * inv_n2 - T(2) * t * inv_den;
  q.l_d1 = xi * xi * inv_n2 - T(2) * t * inv_den;
  return q;
}

template <typename T>
LocalGrad<T> combine(const BinSpline<T>& b, const BinPoint<T>& p, const LocalPartials<T>& q,
                     T alpha, T beta) {
  const T g_xi = alpha * q.y_xi + beta * q.l_xi;
  const T g_s = alpha * q.y_s + beta * q.l_s;
  const T inv_w = T(1) / b.width;
  LocalGrad<T> g;
  g.x = g_xi * inv_w;
  g.xk = -g.x;
  g.width = -(p.xi * g_xi + p.s * g_s) * inv_w;
  g.yk = alpha;
  g.height = alpha * q.y_h + g_s * inv_w;
  g.d0 = alpha * q.y_d0 + beta * q.l_d0;
  g.d1 = alpha * q.y_d1 + beta * q.l_d1;
  return g;
}

// Writes d/dtheta (all 3K - 1 numbers, stride apart) from the local gradient. Knots and bin
// sizes depend on the softmax probabilities p as X_k = -B + 2B (k min + scale P_k) with
// P_k = p_0 + ... + p_{k-1} and W_k = 2B (min + scale p_k), so the gradient with respect to the
// bin fractions is G_j = 2B (g_Xk [j < k] + g_W [j = k]), and through the softmax
//   d/du_j = scale p_j (G_j - sum_i p_i G_i) = 2B scale p_j (g_Xk ([j < k] - P_k) + g_W ([j = k] - p_k)).
// (The last bin's W = B - X_{K-1} differs from 2B (min + scale p_{K-1}) only by the constant
// sum of all p, which the softmax gradient ignores.) The derivatives chain through softplus:
// d d_i / d theta_d[i-1] = sigmoid; only the bin's two end knots get a gradient.
template <typename P, typename T>
void scatter_param_grad(const BinSpline<T>& b, const LocalGrad<T>& g,
                        const SplineConstants<T>& c, const T* scratch, std::size_t stride,
                        P* dtheta) {
  const std::size_t K = c.bins, k = b.k;
  const T* pw = scratch;
  const T* ph = pw + K;
  T pw_below = T(0), ph_below = T(0);
  for (std::size_t j = 0; j < k; ++j) {
    pw_below += pw[j];
    ph_below += ph[j];
  }
  const T fw = T(2) * c.bound * c.width_scale, fh = T(2) * c.bound * c.height_scale;
  const T base_w = -g.xk * pw_below - g.width * pw[k];
  const T base_h = -g.yk * ph_below - g.height * ph[k];
  for (std::size_t j = 0; j < K; ++j) {
    T gw = base_w, gh = base_h;
    if (j < k) {
      gw += g.xk;
      gh += g.yk;
    } else if (j == k) {
      gw += g.width;
      gh += g.height;
    }
    dtheta[j * stride] = P(fw * pw[j] * gw);
    dtheta[(K + j) * stride] = P(fh * ph[j] * gh);
  }
  for (std::size_t i = 0; i + 1 < K; ++i) dtheta[(2 * K + i) * stride] = P(0);
  if (k >= 1) dtheta[(2 * K + k - 1) * stride] = P(g.d0 * b.sig0);
  if (k + 1 < K) dtheta[(2 * K + k) * stride] = P(g.d1 * b.sig1);
}

// Element e of x (flattened (B, k, inner)) and the offset of its first parameter in params
// (flattened (B, P k, inner)); its parameters are `per_sample` = k * inner apart.
struct Geometry {
  std::size_t elements, per_sample, params_per_element;
  std::size_t param_offset(std::size_t e) const {
    const std::size_t b = e / per_sample;
    return b * per_sample * params_per_element + (e - b * per_sample);
  }
};

Geometry geometry_of(const Shape& xs, std::size_t params_per_element) {
  const std::size_t elements = shape_numel(xs);
  return {elements, xs[0] == 0 ? 0 : elements / xs[0], params_per_element};
}

template <typename T>
void forward_kernel(const Tensor<T>& in, const Tensor<T>& params, const SplineConstants<Acc>& c,
                    bool inverse, const Geometry& geo, Tensor<T>& out, Tensor<T>& logd) {
  const T* iv = in.data();
  const T* pv = params.data();
  T* ov = out.data();
  T* lv = logd.data();
  parallel_for(geo.elements, kSplineGrain, [&](std::size_t begin, std::size_t end) {
    std::vector<Acc> scratch(4 * c.bins + 2);
    for (std::size_t e = begin; e < end; ++e) {
      const Acc v = iv[e];
      if (!(v >= -c.bound && v <= c.bound)) {  // identity tails (NaN passes through)
        ov[e] = iv[e];
        lv[e] = T(0);
        continue;
      }
      const T* theta = pv + geo.param_offset(e);
      const BinSpline<Acc> b = locate(theta, geo.per_sample, c, v, inverse, scratch.data());
      if (!inverse) {
        const BinPoint<Acc> p = at(b, (v - b.xk) / b.width);
        ov[e] = T(p.value(b));
        lv[e] = T(p.log_derivative());
      } else {
        const BinPoint<Acc> p = at(b, solve_xi(b, v));
        ov[e] = T(b.xk + p.xi * b.width);
        lv[e] = T(-p.log_derivative());
      }
    }
  });
}

// Reverse pass for gradients g_value (of the op's value) and g_logd (of its log-derivative),
// either of which may be null (no gradient). Writes d_in and d_params where non-null.
//   forward: y(x), L(x):  dx = gy dy/dx + gl dL/dx,  dtheta = gy dy/dtheta + gl dL/dtheta
//   inverse: x(y), L_inv(y) = -L(x(y)). With y_x = dy/dx, L_x = dL/dx at the solution and
//            q = (gx - gl L_x) / y_x:   dy_in = q,  dtheta = -q dy/dtheta - gl dL/dtheta
//            (implicit function theorem: dx/dy = 1 / y_x, dx/dtheta = -(dy/dtheta) / y_x).
template <typename T>
void backward_kernel(const Tensor<T>& in, const Tensor<T>& params, const SplineConstants<Acc>& c,
                     bool inverse, const Geometry& geo, const Tensor<T>* g_value,
                     const Tensor<T>* g_logd, T* d_in, T* d_params) {
  const T* iv = in.data();
  const T* pv = params.data();
  const T* gvv = g_value ? g_value->data() : nullptr;
  const T* glv = g_logd ? g_logd->data() : nullptr;
  const std::size_t P = geo.params_per_element, stride = geo.per_sample;
  parallel_for(geo.elements, kSplineGrain, [&](std::size_t begin, std::size_t end) {
    std::vector<Acc> scratch(4 * c.bins + 2);
    for (std::size_t e = begin; e < end; ++e) {
      const Acc v = iv[e];
      const Acc gv = gvv ? gvv[e] : T(0);
      const Acc gl = glv ? glv[e] : T(0);
      const std::size_t po = geo.param_offset(e);
      if (!(v >= -c.bound && v <= c.bound)) {  // identity: d/dinput = 1, nothing to params
        if (d_in) d_in[e] = T(gv);
        if (d_params)
          for (std::size_t p = 0; p < P; ++p) d_params[po + p * stride] = T(0);
        continue;
      }
      const T* theta = pv + po;
      const BinSpline<Acc> b = locate(theta, stride, c, v, inverse, scratch.data());
      const BinPoint<Acc> pt = at(b, inverse ? solve_xi(b, v) : (v - b.xk) / b.width);
      const LocalPartials<Acc> q = partials(b, pt);
      Acc alpha = gv, beta = gl, din = 0;
      if (!inverse) {
        din = (gv * q.y_xi + gl * q.l_xi) / b.width;
      } else {
        din = (gv - gl * q.l_xi / b.width) / (q.y_xi / b.width);
        alpha = -din;
        beta = -gl;
      }
      if (d_in) d_in[e] = T(din);
      if (d_params)
        scatter_param_grad(b, combine(b, pt, q, alpha, beta), c, scratch.data(), stride,
                           d_params + po);
    }
  });
}

// The gradient of the log-derivative output, handed from its tape node to the value's node
// when both outputs are used, so one sweep computes everything.
template <typename T>
struct PendingLogDerivativeGrad {
  Tensor<T> grad;
};

template <typename T>
void run_backward(const Var<T>& in, const Var<T>& params, const SplineConstants<Acc>& c,
                  bool inverse, const Tensor<T>* g_value, const Tensor<T>* g_logd) {
  const Geometry geo = geometry_of(in.shape(), 3 * c.bins - 1);
  Tensor<T> d_in, d_params;
  if (in.requires_grad()) d_in = Tensor<T>::empty(in.shape());
  if (params.requires_grad()) d_params = Tensor<T>::empty(params.shape());
  backward_kernel(in.value(), params.value(), c, inverse, geo, g_value, g_logd, d_in.data(),
                  d_params.data());
  if (d_in.defined()) in.accumulate_grad(std::move(d_in));
  if (d_params.defined()) params.accumulate_grad(std::move(d_params));
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// x must be (B, k, rest...) and params (B, (3K - 1) k, rest...).
void check_shapes(const Shape& xs, const Shape& ps, std::size_t bins) {
  const std::size_t P = 3 * bins - 1;
  if (xs.size() < 2)
    throw std::invalid_argument("rational_quadratic_spline: input must be (B, k, ...), got " +
                                shape_str(xs));
  Shape expected = xs;
  expected[1] = P * xs[1];
  if (ps != expected)
    throw std::invalid_argument(
        "rational_quadratic_spline: params must be " + shape_str(expected) + " ((3K - 1) * k = " +
        std::to_string(P) + " * " + std::to_string(xs[1]) + " channels for K = " +
        std::to_string(bins) + " bins) for input " + shape_str(xs) + ", got " + shape_str(ps));
}

}  // namespace

void check_rational_quadratic_spline_options(const RationalQuadraticSplineOptions& o) {
  const std::string op = "rational_quadratic_spline: ";
  if (o.bins < 2)
    throw std::invalid_argument(op + "needs at least 2 bins, got " + std::to_string(o.bins));
  if (!(o.tail_bound > 0) || !std::isfinite(o.tail_bound))
    throw std::invalid_argument(op + "tail_bound must be positive and finite, got " +
                                number(o.tail_bound));
  const auto check_min = [&](double v, const char* name) {
    if (!(v > 0) || !(double(o.bins) * v < 1))
      throw std::invalid_argument(op + name + " must be positive with bins * " + name +
                                  " < 1, got " + number(v) + " for " + std::to_string(o.bins) +
                                  " bins");
  };
  check_min(o.min_bin_width, "min_bin_width");
  check_min(o.min_bin_height, "min_bin_height");
  if (!(o.min_derivative > 0) || !std::isfinite(o.min_derivative))
    throw std::invalid_argument(op + "min_derivative must be positive and finite, got " +
                                number(o.min_derivative));
}

template <typename T>
RationalQuadraticSplineOutput<T> rational_quadratic_spline(
    const Var<T>& x, const Var<T>& params, const RationalQuadraticSplineOptions& options) {
  if (reference_ops()) return rational_quadratic_spline_reference(x, params, options);
  check_rational_quadratic_spline_options(options);
  check_shapes(x.shape(), params.shape(), options.bins);
  const Shape& xs = x.shape();
  const std::size_t P = 3 * options.bins - 1;
  const SplineConstants<Acc> c = constants_of<Acc>(options);
  const bool inverse = options.inverse;
  const Geometry geo = geometry_of(xs, P);
  Tensor<T> out = Tensor<T>::empty(xs), logd = Tensor<T>::empty(xs);
  forward_kernel(x.value(), params.value(), c, inverse, geo, out, logd);

  auto pending = std::make_shared<PendingLogDerivativeGrad<T>>();
  Var<T> value = record_op(
      inverse ? "rational_quadratic_spline_inverse" : "rational_quadratic_spline", std::move(out),
      {x, params}, [x, params, c, inverse, pending](const Tensor<T>& g) {
        Tensor<T> g_logd = std::move(pending->grad);
        pending->grad = Tensor<T>();
        run_backward(x, params, c, inverse, &g, g_logd.defined() ? &g_logd : nullptr);
      });
  // Recorded right after the value, so its node runs first in the reverse pass, when every
  // consumer of the value has already delivered its gradient.
  Var<T> log_derivative = record_op(
      inverse ? "rational_quadratic_spline_inverse_log_derivative"
              : "rational_quadratic_spline_log_derivative",
      std::move(logd), {x, params}, [x, params, c, inverse, pending, value](const Tensor<T>& g) {
        if (value.grad().defined())
          pending->grad = g;  // the value's node will do both
        else
          run_backward<T>(x, params, c, inverse, nullptr, &g);
      });
  return {value, log_derivative};
}


// The plain form. Every element's parameters become one row of a (N, 3K - 1) matrix, so the
// softmaxes, cumulative sums and bin searches run along the last axis. Tail elements are
// replaced by 0 before the spline (and their results discarded by `where`), so the unused
// branch never sees a point outside [-B, B] whose arithmetic could overflow and turn the
// zero gradient `where` sends it into NaN.
template <typename T>
RationalQuadraticSplineOutput<T> rational_quadratic_spline_reference(
    const Var<T>& x, const Var<T>& params, const RationalQuadraticSplineOptions& options) {
  check_rational_quadratic_spline_options(options);
  check_shapes(x.shape(), params.shape(), options.bins);
  const Shape& xs = x.shape();
  const std::size_t K = options.bins, P = 3 * K - 1, n = xs[0], k = xs[1];
  const std::size_t N = shape_numel(xs), inner = N == 0 ? 1 : N / (n * k);
  const T B = T(options.tail_bound);

  // (n, P k, inner) -> (n, P, k, inner) -> (n, k, inner, P) -> (N, P): row e = element e.
  const Var<T> theta = reshape(permute(reshape(params, {n, P, k, inner}), {0, 2, 3, 1}), {N, P});
  const Var<T> v = reshape(x, {N, 1});

  Tensor<T> last_knot({1, K + 1});
  last_knot[K] = T(1);
  const Var<T> bound_knot(Tensor<T>({1, 1}, B));
  // Knots from unnormalised sizes: -B + 2B * [0, cumsum(min + (1 - K min) softmax(u))], the
  // last set to B exactly (the first is -B exactly already).
  const auto knots = [&](const Var<T>& u, double min_size) {
    const Var<T> fractions = softmax(u, -1) * T(1 - double(K) * min_size) + T(min_size);
    const Var<T> knots = pad(cumsum(fractions, -1), {{1, 0}}, T(0)) * (T(2) * B) - B;
    return where(last_knot, bound_knot, knots);
  };
  const Var<T> xknots = knots(slice(theta, 1, 0, long(K)), options.min_bin_width);
  const Var<T> yknots = knots(slice(theta, 1, long(K), long(2 * K)), options.min_bin_height);
  const Var<T> widths = slice(xknots, 1, 1, long(K + 1)) - slice(xknots, 1, 0, long(K));
  const Var<T> heights = slice(yknots, 1, 1, long(K + 1)) - slice(yknots, 1, 0, long(K));
  // Derivatives at the K + 1 knots: 1, min + softplus(u), ..., 1.
  const Var<T> derivatives =
      pad(softplus(slice(theta, 1, long(2 * K), long(P))) + T(options.min_derivative), {{1, 1}},
          T(1));

  Tensor<T> inside({N, 1});
  for (std::size_t e = 0; e < N; ++e) {
    const T value = x.value()[e];
    inside[e] = (value >= -B && value <= B) ? T(1) : T(0);
  }
  const Var<T> zero(Tensor<T>({1, 1}, T(0)));
  const Var<T> v_in = where(inside, v, zero);

  const IndexTensor bin = searchsorted(options.inverse ? yknots : xknots, v_in);
  IndexTensor next_bin = bin;
  for (std::size_t& i : next_bin.values) ++i;
  const Var<T> xk = gather(xknots, 1, bin), w = gather(widths, 1, bin);
  const Var<T> yk = gather(yknots, 1, bin), h = gather(heights, 1, bin);
  const Var<T> d0 = gather(derivatives, 1, bin), d1 = gather(derivatives, 1, next_bin);
  const Var<T> s = h / w;
  const Var<T> delta = d0 + d1 - s * T(2);

  Var<T> xi;
  if (!options.inverse) {
    xi = (v_in - xk) / w;
  } else {  // the root of a xi^2 + b xi + c = 0 in its stable form
    const Var<T> dy = v_in - yk;
    const Var<T> qa = h * (s - d0) + dy * delta;
    const Var<T> qb = h * d0 - dy * delta;
    const Var<T> qc = -(s * dy);
    xi = (qc * T(2)) / (-qb - sqrt(qb * qb - qa * qc * T(4)));
  }
  const Var<T> t = xi * (T(1) - xi);
  const Var<T> den = s + delta * t;
  const Var<T> n2 = d1 * square(xi) + s * t * T(2) + d0 * square(T(1) - xi);
  const Var<T> log_slope = log(n2) + log(s / den) * T(2);  // log dy/dx at xi

  Var<T> value, log_derivative;
  if (!options.inverse) {
    value = yk + h * (s * square(xi) + d0 * t) / den;
    log_derivative = log_slope;
  } else {
    value = xk + xi * w;
    log_derivative = -log_slope;
  }
  return {reshape(where(inside, value, v), xs), reshape(where(inside, log_derivative, zero), xs)};
}

template RationalQuadraticSplineOutput<float> rational_quadratic_spline<float>(
    const Var<float>&, const Var<float>&, const RationalQuadraticSplineOptions&);
template RationalQuadraticSplineOutput<double> rational_quadratic_spline<double>(
    const Var<double>&, const Var<double>&, const RationalQuadraticSplineOptions&);
template RationalQuadraticSplineOutput<float> rational_quadratic_spline_reference<float>(
    const Var<float>&, const Var<float>&, const RationalQuadraticSplineOptions&);
template RationalQuadraticSplineOutput<double> rational_quadratic_spline_reference<double>(
    const Var<double>&, const Var<double>&, const RationalQuadraticSplineOptions&);

}  // namespace fz
