// tests/tensor/test_float32_kernels.cpp — every float32 GEMM and convolution kernel against an
// independent float64 reference on the same float inputs (a naive triple loop, direct loop
// convolutions; tests/tensor/float_reference.hpp), at the models' real shapes (NICE's
// 392/1000-wide linear layers, Glow's and RealNVP's convolutions from bench/bench_conv_shapes.cpp
// at their real channel and spatial sizes, a few batch items) and at ragged shapes placed
// around the vector width and tile sizes of the build (kW, kMR, kNR). Forward, input-gradient
// and weight-gradient passes, and the fused conv2d_affine / conv2d_affine_chain with their
// backward passes. Tolerances: K * FLT_EPSILON * sum |a_k b_k| per element (see
// float_reference.hpp), propagated through the layers of a chain by running error bounds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tensor/conv2d.hpp"
#include "tensor/conv2d_affine.hpp"
#include "tensor/gemm.hpp"
#include "tensor/gemm_dots.hpp"
#include "tensor/gemm_skinny.hpp"
#include "tensor/parallel.hpp"
#include "tensor/random.hpp"
#include "tests/tensor/float_reference.hpp"

using namespace fz;
using namespace fz::testing;

namespace {

// ---- GEMM ---------------------------------------------------------------------------------

// op(A)(i, k) and op(B)(k, j) of row-major buffers, as gemm.hpp defines them.
struct GemmCase {
  bool ta, tb;
  std::size_t M, N, K;
  float alpha, beta;
};

double check_gemm(const GemmCase& g, Rng& rng, bool parallel = true) {
  const std::size_t lda = (g.ta ? g.M : g.K) + 1, ldb = (g.tb ? g.K : g.N) + 2, ldc = g.N + 3;
  const Tensor32 A = rng.uniform<float>({(g.ta ? g.K : g.M) * lda}, -1, 1);
  const Tensor32 B = rng.uniform<float>({(g.tb ? g.N : g.K) * ldb}, -1, 1);
  const Tensor32 C0 = rng.uniform<float>({g.M * ldc}, -1, 1);
  Tensor32 C = C0.clone();
  gemm<float>(g.ta, g.tb, g.M, g.N, g.K, g.alpha, A.data(), lda, B.data(), ldb, g.beta, C.data(),
              ldc, parallel);
  Tensor64 ref({g.M * ldc}), bound({g.M * ldc});
  for (std::size_t i = 0; i < g.M; ++i)
    for (std::size_t j = 0; j < ldc; ++j) {
      const std::size_t o = i * ldc + j;
      if (j >= g.N) {  // outside the N columns C is not touched
        ref[o] = C0[o];
        continue;
      }
      double s = 0, sa = 0;
      for (std::size_t k = 0; k < g.K; ++k) {
        const double a = g.ta ? A[k * lda + i] : A[i * lda + k];
        const double b = g.tb ? B[j * ldb + k] : B[k * ldb + j];
        s += a * b;
        sa += std::abs(a * b);
      }
      ref[o] = double(g.alpha) * s + (g.beta == 0 ? 0.0 : double(g.beta) * C0[o]);
      bound[o] = kEpsF32 * ((double(g.K) + 2) * std::abs(double(g.alpha)) * sa +
                            2 * std::abs(double(g.beta) * C0[o]));
    }
  INFO("gemm ta " << g.ta << " tb " << g.tb << " M " << g.M << " N " << g.N << " K " << g.K);
  return require_within(C, ref, bound, "C");
}

// gemm_dots (C = A B^T over long rows: a convolution's weight gradient) and gemm_skinny_lines
// (C = A B with at most 8 rows: convolutions with 2-8 output channels), B as line pointers.
double check_dots(std::size_t M, std::size_t N, std::size_t K, Rng& rng) {
  const std::size_t lda = K + 1;
  const Tensor32 A = rng.uniform<float>({M * lda}, -1, 1);
  const Tensor32 Bbuf = rng.uniform<float>({N * (K + 3)}, -1, 1);
  std::vector<const float*> lines(N);
  for (std::size_t j = 0; j < N; ++j) lines[j] = Bbuf.data() + (N - 1 - j) * (K + 3) + 1;
  Tensor32 C({M * N});
  gemm_dots<float>(M, N, K, A.data(), lda, lines.data(), C.data(), N);
  Tensor64 ref({M * N}), bound({M * N});
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double s = 0, sa = 0;
      for (std::size_t k = 0; k < K; ++k) {
        const double p = double(A[i * lda + k]) * double(lines[j][k]);
        s += p;
        sa += std::abs(p);
      }
      ref[i * N + j] = s;
      bound[i * N + j] = (double(K) + 1) * kEpsF32 * sa;
    }
  INFO("gemm_dots M " << M << " N " << N << " K " << K);
  return require_within(C, ref, bound, "C");
}

double check_skinny(std::size_t M, std::size_t N, std::size_t K, Rng& rng) {
  const Tensor32 A = rng.uniform<float>({M * K}, -1, 1);
  const Tensor32 Bbuf = rng.uniform<float>({K * (N + 5) + 8}, -1, 1);
  std::vector<const float*> lines(K);
  for (std::size_t k = 0; k < K; ++k) lines[k] = Bbuf.data() + k * (N + 5) + (k % 3);
  Tensor32 C({M * N});
  gemm_skinny_lines<float>(M, N, K, A.data(), K, lines.data(), C.data(), N);
  Tensor64 ref({M * N}), bound({M * N});
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double s = 0, sa = 0;
      for (std::size_t k = 0; k < K; ++k) {
        const double p = double(A[i * K + k]) * double(lines[k][j]);
        s += p;
        sa += std::abs(p);
      }
      ref[i * N + j] = s;
      bound[i * N + j] = (double(K) + 1) * kEpsF32 * sa;
    }
  INFO("gemm_skinny M " << M << " N " << N << " K " << K);
  return require_within(C, ref, bound, "C");
}

// ---- plain convolution --------------------------------------------------------------------

void check_conv(const ConvGeom& g, Rng& rng) {
  INFO("conv " << g.c << " -> " << g.cout << " k" << g.k << " stride " << g.stride << " pad "
               << g.pad << " on " << g.n << "x" << g.h << "x" << g.w);
  const Tensor32 x = rng.uniform<float>(g.x_shape(), -1, 1);
  const Tensor32 w = rng.uniform<float>(g.w_shape(), -1, 1);
  const Tensor32 b = rng.uniform<float>({g.cout}, -1, 1);
  const Tensor32 dy = rng.uniform<float>(g.y_shape(), -1, 1);
  const Tensor64 x64 = to64(x), w64 = to64(w), dy64 = to64(dy);
  const Tensor64 ax = abs64(x64), aw = abs64(w64), ady = abs64(dy64);

  // forward, with bias: one more rounding per output
  Tensor64 y_ref = ref_conv(x64, w64, g), y_bound = ref_conv(ax, aw, g);
  const std::size_t plane = g.ho() * g.wo();
  for (std::size_t i = 0; i < y_ref.numel(); ++i) {
    const double bias = b[(i / plane) % g.cout];
    y_ref[i] += bias;
    y_bound[i] = kEpsF32 * ((double(g.taps_per_output()) + 2) * y_bound[i] + 2 * std::abs(bias));
  }
  Tensor32 saved;
  require_within(conv2d(x, w, b, g.stride, g.pad, &saved), y_ref, y_bound, "forward");

  Tensor64 dx_ref = ref_conv_dx(dy64, w64, g), dx_bound = ref_conv_dx(ady, aw, g);
  for (auto& v : dx_bound) v *= (double(g.taps_per_input()) + 1) * kEpsF32;
  Tensor64 dw_ref = ref_conv_dw(dy64, x64, g), dw_bound = ref_conv_dw(ady, ax, g);
  for (auto& v : dw_bound) v *= (double(g.positions()) + 1) * kEpsF32;
  require_within(conv2d_backward_input(dy, w, g.x_shape(), g.stride, g.pad), dx_ref, dx_bound,
                 "input gradient");
  require_within(conv2d_backward_weight(dy, x, g.w_shape(), g.stride, g.pad), dw_ref, dw_bound,
                 "weight gradient");
  // As autograd calls it: both at once from the forward pass's saved layout.
  const Conv2dGrads<float> both = conv2d_backward(dy, x, w, g.stride, g.pad, ConvGradsWanted(), &saved);
  require_within(both.input, dx_ref, dx_bound, "input gradient (combined call)");
  require_within(both.weight, dw_ref, dw_bound, "weight gradient (combined call, saved layout)");
}

// ---- conv2d_affine and conv2d_affine_chain ------------------------------------------------

// One layer: act(scale * conv(in, weight) + shift), a "same" convolution of odd size k.
struct AffineLayer {
  std::size_t cout, k;
  bool relu;
  Tensor32 w, s, t;
};

// The float64 reference of a chain and the error bound of everything the float kernel
// computes. Forward: z_i = conv(h_i, w_i), pre_i = s_i z_i + t_i, h_{i+1} = act(pre_i); every
// bound is propagated: e(z_i) = conv(e(h_i), |w_i|) + (K+1) eps conv(|h_i|, |w_i|), e(pre_i)
// = |s| e(z_i) + 2 eps (|s z_i| + |t|), ReLU does not enlarge an error. Each ReLU layer's
// shift is chosen (per channel, from a fixed sequence of candidates) so that no pre-activation
// lies within twice its error bound of 0: then the float kernel's ReLU decisions are provably
// the reference's, and the gradients can be compared element by element.
struct RefChain {
  std::vector<ConvGeom> geom;
  std::vector<Tensor64> h, eh, z, ez, pre;  // h[i], eh[i]: layer i's input and its error bound
  Tensor64 y, ey;
};

Tensor64 map2(const Tensor64& a, const Tensor64& b, double (*f)(double, double)) {
  Tensor64 out(a.shape());
  for (std::size_t i = 0; i < a.numel(); ++i) out[i] = f(a[i], b[i]);
  return out;
}

RefChain ref_chain_forward(const Tensor32& x, bool relu_input, std::vector<AffineLayer>& layers) {
  RefChain r;
  Tensor64 h = to64(x);
  if (relu_input)
    for (auto& v : h) v = std::max(v, 0.0);
  Tensor64 eh(h.shape());
  for (AffineLayer& l : layers) {
    const Shape& s = h.shape();
    const ConvGeom g{s[0], s[1], s[2], s[3], l.cout, l.k, 1, l.k / 2};
    const Tensor64 w64 = to64(l.w), aw = abs64(w64);
    const Tensor64 z = ref_conv(h, w64, g), az = ref_conv(abs64(h), aw, g);
    Tensor64 ez = ref_conv(eh, aw, g);
    for (std::size_t i = 0; i < ez.numel(); ++i)
      ez[i] += (double(g.taps_per_output()) + 1) * kEpsF32 * az[i];
    const std::size_t plane = g.h * g.w;
    auto pre_bound = [&](std::size_t i, double sc, double sh) {
      return std::abs(sc) * ez[i] + 2 * kEpsF32 * (std::abs(sc * z[i]) + std::abs(sh));
    };
    if (l.relu) {
      for (std::size_t c = 0; c < l.cout; ++c) {
        const double sc = l.s[c];
        double rms = 0;
        for (std::size_t n = 0; n < g.n; ++n)
          for (std::size_t p = 0; p < plane; ++p) rms += std::pow(sc * z[(n * l.cout + c) * plane + p], 2);
        rms = std::sqrt(rms / double(g.n * plane)) + 1e-3;
        bool found = false;
        for (int j = 0; j < 400 && !found; ++j) {
          const float sh = float(double(l.t[c]) + 0.0173 * j * rms);
          found = true;
          for (std::size_t n = 0; n < g.n && found; ++n)
            for (std::size_t p = 0; p < plane; ++p) {
              const std::size_t i = (n * l.cout + c) * plane + p;
              if (std::abs(sc * z[i] + sh) <= 2 * pre_bound(i, sc, sh)) {
                found = false;
                break;
              }
            }
          if (found) l.t[c] = sh;
        }
        INFO("channel " << c << ": no shift keeps the ReLU decisions clear of the error bound");
        REQUIRE(found);
      }
    }
    Tensor64 pre(z.shape()), epre(z.shape());
    for (std::size_t i = 0; i < z.numel(); ++i) {
      const std::size_t c = (i / plane) % l.cout;
      pre[i] = double(l.s[c]) * z[i] + double(l.t[c]);
      epre[i] = pre_bound(i, l.s[c], l.t[c]);
    }
    r.geom.push_back(g);
    r.h.push_back(h);
    r.eh.push_back(eh);
    r.z.push_back(z);
    r.ez.push_back(ez);
    r.pre.push_back(pre);
    h = pre.clone();
    if (l.relu)
      for (auto& v : h) v = std::max(v, 0.0);
    eh = epre;
  }
  r.y = h;
  r.ey = eh;
  return r;
}

struct RefChainGrads {
  Tensor64 dx, edx;
  std::vector<Tensor64> dw, edw, ds, eds, dt, edt;
};

// Backward from g = dL/dy (exact): gz = g m s, e(gz) = m |s| e(g) + eps |gz|; dshift = sum g m,
// dscale = sum g m z, dw = corr(h, gz), dh = conv^T(gz, w), each with the bound of its sum
// plus the propagated errors of its factors (first order).
RefChainGrads ref_chain_backward(const RefChain& r, const Tensor32& x, bool relu_input,
                                 const std::vector<AffineLayer>& layers, const Tensor32& g) {
  const std::size_t L = layers.size();
  RefChainGrads out;
  out.dw.resize(L);
  out.edw.resize(L);
  out.ds.resize(L);
  out.eds.resize(L);
  out.dt.resize(L);
  out.edt.resize(L);
  Tensor64 gh = to64(g), egh(gh.shape());
  for (std::size_t li = L; li-- > 0;) {
    const AffineLayer& l = layers[li];
    const ConvGeom& geo = r.geom[li];
    const std::size_t plane = geo.h * geo.w, P = geo.positions();
    Tensor64 gz(gh.shape()), egz(gh.shape());
    Tensor64 dt({l.cout}), edt({l.cout}), ds({l.cout}), eds({l.cout}), sum_abs_g({l.cout}),
        sum_abs_gz({l.cout});
    for (std::size_t i = 0; i < gh.numel(); ++i) {
      const std::size_t c = (i / plane) % l.cout;
      const double m = (!l.relu || r.pre[li][i] > 0) ? 1.0 : 0.0;
      const double sc = l.s[c];
      gz[i] = gh[i] * m * sc;
      egz[i] = m * std::abs(sc) * egh[i] + kEpsF32 * std::abs(gz[i]);
      dt[c] += gh[i] * m;
      edt[c] += m * egh[i];
      sum_abs_g[c] += m * std::abs(gh[i]);
      ds[c] += gh[i] * m * r.z[li][i];
      eds[c] += m * (egh[i] * std::abs(r.z[li][i]) + std::abs(gh[i]) * r.ez[li][i]);
      sum_abs_gz[c] += m * std::abs(gh[i] * r.z[li][i]);
    }
    for (std::size_t c = 0; c < l.cout; ++c) {
      edt[c] += (double(P) + 1) * kEpsF32 * sum_abs_g[c];
      eds[c] += (double(P) + 2) * kEpsF32 * sum_abs_gz[c];
    }
    const Tensor64 agz = abs64(gz), ah = abs64(r.h[li]), w64 = to64(l.w), aw = abs64(w64);
    out.dw[li] = ref_conv_dw(gz, r.h[li], geo);
    Tensor64 edw = map2(ref_conv_dw(egz, ah, geo), ref_conv_dw(agz, r.eh[li], geo),
                        [](double a, double b) { return a + b; });
    const Tensor64 dw_abs = ref_conv_dw(agz, ah, geo);
    for (std::size_t i = 0; i < edw.numel(); ++i) edw[i] += (double(P) + 1) * kEpsF32 * dw_abs[i];
    out.edw[li] = edw;
    out.ds[li] = ds;
    out.eds[li] = eds;
    out.dt[li] = dt;
    out.edt[li] = edt;
    // dL/d(layer input)
    gh = ref_conv_dx(gz, w64, geo);
    const Tensor64 dx_abs = ref_conv_dx(agz, aw, geo);
    egh = ref_conv_dx(egz, aw, geo);
    for (std::size_t i = 0; i < egh.numel(); ++i)
      egh[i] += (double(geo.taps_per_input()) + 1) * kEpsF32 * dx_abs[i];
  }
  if (relu_input)
    for (std::size_t i = 0; i < gh.numel(); ++i)
      if (!(x[i] > 0)) gh[i] = egh[i] = 0;
  out.dx = gh;
  out.edx = egh;
  return out;
}

// Second-order terms (error times error) are left out of the running bounds; 5% covers them.
Tensor64 slack(const Tensor64& bound) {
  Tensor64 out = bound.clone();
  for (auto& v : out) v *= 1.05;
  return out;
}

std::vector<AffineLayer> random_layers(std::size_t c_in,
                                       const std::vector<std::tuple<std::size_t, std::size_t, bool>>& spec,
                                       Rng& rng) {
  std::vector<AffineLayer> layers;
  for (auto [cout, k, relu] : spec) {
    // Weights scaled like an initialised layer (1 / sqrt(fan-in)), so activations stay O(1).
    const float scale = float(1.0 / std::sqrt(double(c_in * k * k)));
    layers.push_back({cout, k, relu, rng.uniform<float>({cout, c_in, k, k}, -scale, scale),
                      rng.uniform<float>({cout}, 0.5, 1.5), rng.uniform<float>({cout}, -0.5, 0.5)});
    c_in = cout;
  }
  return layers;
}

// conv2d_affine (one layer) or conv2d_affine_chain (several) in float against RefChain, both
// backward branches (with and without the input's gradient: the weight-side results must not
// depend on it).
void check_affine_chain(std::size_t n, std::size_t c, std::size_t h, std::size_t w,
                        bool relu_input,
                        const std::vector<std::tuple<std::size_t, std::size_t, bool>>& spec,
                        Rng& rng) {
  INFO(spec.size() << " layer(s) from " << c << " channels at " << n << "x" << h << "x" << w
                   << (relu_input ? ", relu input" : ""));
  const Tensor32 x = rng.uniform<float>({n, c, h, w}, -1, 1);
  std::vector<AffineLayer> layers = random_layers(c, spec, rng);
  const RefChain ref = ref_chain_forward(x, relu_input, layers);  // may move the ReLU shifts
  const Tensor32 g = rng.uniform<float>(ref.y.shape(), -1, 1);
  const RefChainGrads rg = ref_chain_backward(ref, x, relu_input, layers, g);

  std::vector<Tensor32> dws, dss, dts;
  Tensor32 y;
  for (bool need_input : {true, false}) {
    INFO("need_input " << need_input);
    std::vector<Tensor32> layer_dw, layer_ds, layer_dt;
    Tensor32 dx;
    if (layers.size() == 1) {
      const AffineLayer& l = layers[0];
      ConvAffineSaved<float> saved;
      ConvAffineOptions options;
      options.relu = l.relu;
      options.relu_input = relu_input;
      options.padding = l.k / 2;
      y = conv2d_affine(x, l.w, l.s, l.t, options, &saved, /*keep_x_layout=*/true);
      ConvAffineGrads<float> gr = conv2d_affine_backward(
          g, x, l.w, l.s, l.t, options, saved, {/*input=*/need_input, /*weight=*/true});
      dx = gr.input;
      layer_dw = {gr.weight};
      layer_ds = {gr.scale};
      layer_dt = {gr.shift};
    } else {
      std::vector<ConvAffineLayer<float>> cl;
      for (const AffineLayer& l : layers) cl.push_back({l.w, l.s, l.t, l.relu});
      ConvAffineChainSaved<float> saved;
      y = conv2d_affine_chain(x, relu_input, cl, &saved, true);
      ConvAffineChainGrads<float> gr =
          conv2d_affine_chain_backward(g, x, relu_input, cl, saved,
                                       {/*input=*/need_input, /*weight=*/true});
      dx = gr.input;
      layer_dw = gr.weight;
      layer_ds = gr.scale;
      layer_dt = gr.shift;
    }
    require_within(y, ref.y, slack(ref.ey), "forward");
    if (need_input) require_within(dx, rg.dx, slack(rg.edx), "input gradient");
    else CHECK(!dx.defined());
    REQUIRE(layer_dw.size() == layers.size());
    for (std::size_t i = 0; i < layers.size(); ++i) {
      INFO("layer " << i);
      require_within(layer_dw[i], rg.dw[i], slack(rg.edw[i]), "weight gradient");
      require_within(layer_ds[i], rg.ds[i], slack(rg.eds[i]), "scale gradient");
      require_within(layer_dt[i], rg.dt[i], slack(rg.edt[i]), "shift gradient");
      if (!need_input) {  // the no-input-gradient branch gives the very same parameter gradients
        CHECK(layer_dw[i].to_vector() == dws[i].to_vector());
        CHECK(layer_ds[i].to_vector() == dss[i].to_vector());
        CHECK(layer_dt[i].to_vector() == dts[i].to_vector());
      }
    }
    if (need_input) {
      dws = layer_dw;
      dss = layer_ds;
      dts = layer_dt;
    }
  }
}

// Runs f at 1 and 2 threads.
template <typename F>
void at_thread_counts(F&& f) {
  for (int threads : {1, 2}) {
    const ThreadCount count(threads);
    INFO("threads " << threads);
    f();
  }
}

}  // namespace

TEST_CASE("float32 gemm: NICE's linear layers (392/1000 wide) against a float64 triple loop",
          "[tensor][gemm][float32]") {
  Rng rng(101);
  at_thread_counts([&] {
    // Linear(in, out) at batch B: y = x W^T (B x out, K = in), dx = G W (B x in, K = out),
    // dW = G^T x (out x in, K = B). NICE on 28x28: its couplings' MLPs are 392 -> 1000 -> ...
    // -> 1000 -> 392 (half of the 784 pixels in, the other half out); 784 -> 1000 too (a
    // whole image), batch 64 for dW.
    for (auto [in, out] : {std::pair<std::size_t, std::size_t>{392, 1000}, {1000, 1000}, {1000, 392},
                           {784, 1000}}) {
      check_gemm({false, true, 8, out, in, 1.f, 0.f}, rng);
      check_gemm({false, false, 8, in, out, 1.f, 0.f}, rng);
      check_gemm({true, false, out, in, 64, 1.f, 1.f}, rng);  // beta 1: gradient accumulation
    }
    // The toy flows' MLP (batch 512, 64 wide) and its thin first/last layers.
    check_gemm({false, true, 512, 64, 64, 1.f, 0.f}, rng);
    check_gemm({true, false, 64, 64, 512, 1.f, 0.f}, rng);
    check_gemm({false, true, 512, 2, 64, 1.f, 0.f}, rng);   // last layer: N = 2
    check_gemm({false, true, 512, 64, 1, 1.f, 1.f}, rng);   // first layer: K = 1, bias as beta
    check_gemm({true, false, 64, 1, 512, 1.f, 0.f}, rng);   // its weight gradient: N = 1
  });
}

TEST_CASE("float32 gemm: ragged shapes around the build's tile sizes", "[tensor][gemm][float32]") {
  Rng rng(102);
  const std::size_t Ms[] = {1, kMR - 1, kMR + 1, 2 * kMR + 1, 16 * kMR + 3};
  const std::size_t Ns[] = {kW - 1, kNR + 1, 3 * kNR - 1, 512 + kW + 1};
  const std::size_t Ks[] = {1, kW + 1, 255, 257, 385, 1031};  // KC = 256: around 1, 1.5 and 4 blocks
  double worst = 0;
  int n = 0;
  for (std::size_t M : Ms)
    for (std::size_t N : Ns)
      for (std::size_t K : Ks) {
        const bool ta = n % 2, tb = (n / 2) % 2;
        const float beta = n % 3 == 0 ? 0.f : 0.5f;
        worst = std::max(worst, check_gemm({ta, tb, M, N, K, n % 5 ? 1.f : -1.5f, beta}, rng, n % 4 != 3));
        ++n;
      }
  CHECK(worst < 1.0);
}

TEST_CASE("float32 gemm_dots and gemm_skinny: ragged shapes against a float64 loop",
          "[tensor][gemm][float32]") {
  Rng rng(103);
  at_thread_counts([&] {
    // gemm_dots: tiles 2x8, 4x6, 8x3; K chunks of 512 floats, then a tail of K % W.
    for (std::size_t M : {1ul, 2ul, 3ul, 4ul, 5ul, 8ul, 9ul, 17ul})
      for (std::size_t N : {1ul, 3ul, 7ul, 19ul})
        for (std::size_t K : {kW - 1, kW + 1, 512 + 2 * kW + 3, 1682ul})
          check_dots(M, N, K, rng);
    // gemm_skinny: 1..8 rows, column blocks of NV * W, whole-vector and scalar tails.
    for (std::size_t M = 1; M <= kSkinnyMaxRows; ++M)
      for (std::size_t N : {kW - 1, 3 * kW + 1, 8 * kW + kW / 2, 392ul})
        for (std::size_t K : {9ul, 1152ul})
          check_skinny(M, N, K, rng);
  });
}

TEST_CASE("float32 conv2d: Glow's and RealNVP's convolutions, forward and both gradients, "
          "against a direct float64 convolution", "[tensor][conv2d][float32]") {
  Rng rng(104);
  const ThreadCount two_threads(2);
  // (n, c, h, w, cout, k, stride, pad) from bench/bench_conv_shapes.cpp, a few batch items.
  const ConvGeom shapes[] = {
      {2, 2, 14, 14, 128, 3, 1, 1},   // glow level 1: coupling's first conv
      {2, 128, 14, 14, 128, 1, 1, 0}, // glow: 1x1 hidden conv
      {3, 128, 14, 14, 4, 3, 1, 1},   // glow: zero conv (K = 1152)
      {3, 2, 14, 14, 4, 3, 1, 1},     // glow: Split prior conv
      {4, 4, 7, 7, 128, 3, 1, 1},     // glow level 2
      {4, 128, 7, 7, 128, 1, 1, 0},
      {6, 128, 7, 7, 8, 3, 1, 1},
      {2, 32, 28, 28, 32, 3, 1, 1},   // realnvp scale 1 (weight gradient K = 1568)
      {2, 2, 28, 28, 32, 3, 1, 1},
      {2, 32, 28, 28, 2, 3, 1, 1},
      {3, 32, 14, 14, 4, 3, 1, 1},
      {5, 32, 7, 7, 32, 3, 1, 1},
      {4, 16, 16, 16, 16, 1, 1, 0},   // InvConv1x1 on a squeezed image
  };
  for (const ConvGeom& g : shapes) check_conv(g, rng);
}

TEST_CASE("float32 conv2d: ragged shapes around the vector width, and the general path",
          "[tensor][conv2d][float32]") {
  Rng rng(105);
  at_thread_counts([&] {
    // Rows of W - 1, W + 1 and 2W + 1 pixels cross the vector boundary at every row.
    for (std::size_t w : {kW - 1, kW + 1, 2 * kW + 1}) {
      check_conv({2, 3, 5, w, 9, 3, 1, 1}, rng);
      check_conv({3, 5, 3, w, 2, 3, 1, 1}, rng);      // few output channels: the skinny GEMM
      check_conv({2, kMR + 1, 4, w, kMR - 1, 1, 1, 0}, rng);
    }
    check_conv({2, 3, 9, 11, 5, 5, 1, 2}, rng);        // 5x5 same convolution
    check_conv({2, 4, 9, 2 * kW + 3, 6, 3, 2, 1}, rng); // stride 2: im2col + GEMM per image
    check_conv({2, 3, 7, kW + 2, 4, 3, 1, 0}, rng);     // no padding
  });
}

TEST_CASE("float32 conv2d_affine: one fused layer against the float64 reference, with and "
          "without the input gradient", "[tensor][conv2d][float32]") {
  Rng rng(106);
  const ThreadCount two_threads(2);
  // Glow's conv -> ActNorm -> ReLU (first layer, 2 -> 128) and RealNVP's relu -> conv (+ bias)
  // -> relu at its real sizes, then ragged widths, every relu combination.
  check_affine_chain(2, 2, 14, 14, false, {{128, 3, true}}, rng);
  check_affine_chain(2, 128, 7, 7, false, {{128, 1, true}}, rng);
  check_affine_chain(2, 32, 28, 28, true, {{32, 3, true}}, rng);
  check_affine_chain(3, 32, 14, 14, true, {{4, 3, false}}, rng);
  for (std::size_t w : {kW - 1, kW + 1, 2 * kW + 1})
    for (int mode = 0; mode < 4; ++mode)
      check_affine_chain(2, 3, 4, w, mode & 2, {{mode ? 5ul : 9ul, 3, bool(mode & 1)}}, rng);
}

TEST_CASE("float32 conv2d_affine_chain: Glow's coupling network and RealNVP's residual branch "
          "against the float64 reference", "[tensor][conv2d][float32]") {
  Rng rng(107);
  const ThreadCount two_threads(2);
  // Glow (hidden 128): 3x3 -> ActNorm -> ReLU -> 1x1 -> ActNorm -> ReLU -> zero conv, levels 1, 2.
  check_affine_chain(1, 2, 14, 14, false, {{128, 3, true}, {128, 1, true}, {4, 3, false}}, rng);
  check_affine_chain(2, 4, 7, 7, false, {{128, 3, true}, {128, 1, true}, {8, 3, false}}, rng);
  // RealNVP (hidden 32): relu -> 3x3 -> relu -> 3x3 at 28x28 and 14x14.
  check_affine_chain(1, 32, 28, 28, true, {{32, 3, true}, {32, 3, false}}, rng);
  check_affine_chain(2, 32, 14, 14, true, {{32, 3, true}, {32, 3, false}}, rng);
  // Ragged widths around the vector width.
  for (std::size_t w : {kW - 1, kW + 1, 2 * kW + 1})
    check_affine_chain(2, 3, 5, w, w % 2, {{7, 3, true}, {5, 1, true}, {2, 3, false}}, rng);
}
