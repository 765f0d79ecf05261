// tensor/conv2d.cpp — conv2d forward and backward as im2col + GEMM, one image at a time.
// "Same" convolutions (odd square kernel, stride 1, padding (k-1)/2 — all the flow models use)
// take the faster whole-batch path of conv2d_same.cpp instead; this file handles the rest.
//
// For one image, im2col lays the input patches out as a matrix col (C_in*kh*kw, Ho*Wo): row
// (c, ki, kj) holds x[c, oh*stride - pad + ki, ow*stride - pad + kj] for every output pixel
// (zero where the patch hangs over the padding). Then, with the weight viewed as the matrix
// Wm (C_out, C_in*kh*kw):
//   forward:          y_n   = Wm @ col_n                      (+ bias per output channel)
//   backward input:   dcol  = Wm^T @ dy_n, then col2im adds dcol back onto dx_n's pixels
//   backward weight:  dWm  += dy_n @ col_n^T                  (summed over the batch)
//
// Threads: when the batch has at least as many images as threads, images are split into one
// fixed chunk per thread, each running single-threaded GEMMs on its own scratch buffer (the
// weight gradient gets one partial sum per chunk, added in chunk order, so results are
// deterministic for a given thread count). Otherwise images go one by one through the
// threaded GEMM.
#include "tensor/conv2d.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <xsimd/xsimd.hpp>

#include "tensor/conv2d_same.hpp"
#include "tensor/gemm.hpp"
#include "tensor/parallel.hpp"
#include "tensor/scratch.hpp"

namespace fz {

namespace {

struct ConvGeom {
  std::size_t N, C, H, W;      // input
  std::size_t Cout, kh, kw;    // weight
  std::size_t Ho, Wo;          // output
  std::size_t stride, pad;
  std::size_t ckk() const { return C * kh * kw; }
  std::size_t hw_in() const { return H * W; }
  std::size_t hw_out() const { return Ho * Wo; }
};

ConvGeom make_geom(const Shape& xs, const Shape& ws, std::size_t stride, std::size_t pad) {
  auto fail = [&](const std::string& why) {
    return std::invalid_argument("conv2d: " + why + " (input " + shape_str(xs) + ", weight " +
                                 shape_str(ws) + ", stride " + std::to_string(stride) +
                                 ", padding " + std::to_string(pad) + ")");
  };
  if (xs.size() != 4) throw fail("input must be 4-D (N, C, H, W)");
  if (ws.size() != 4) throw fail("weight must be 4-D (C_out, C_in, kh, kw)");
  if (xs[1] != ws[1]) throw fail("input channels differ from the weight's C_in");
  if (stride == 0) throw fail("stride must be at least 1");
  if (ws[2] == 0 || ws[3] == 0) throw fail("kernel size must be positive");
  if (xs[2] + 2 * pad < ws[2] || xs[3] + 2 * pad < ws[3])
    throw fail("kernel is larger than the padded input");
  ConvGeom g;
  g.N = xs[0];
  g.C = xs[1];
  g.H = xs[2];
  g.W = xs[3];
  g.Cout = ws[0];
  g.kh = ws[2];
  g.kw = ws[3];
  g.stride = stride;
  g.pad = pad;
  g.Ho = (g.H + 2 * pad - g.kh) / stride + 1;
  g.Wo = (g.W + 2 * pad - g.kw) / stride + 1;
  return g;
}

// Per-thread scratch for the im2col matrix of one image.
struct Im2col {};
template <typename T>
T* col_scratch(std::size_t n) {
  return detail::thread_scratch<Im2col, T>(0, n);
}

// Range of output columns ow whose input column ow*stride - pad + kj lies inside [0, W).
inline void valid_range(std::size_t Wo, std::size_t W, std::size_t stride, std::size_t pad,
                        std::size_t kj, std::size_t& lo, std::size_t& hi) {
  // iw = ow*stride + kj - pad >= 0  <=>  ow >= ceil((pad - kj) / stride)
  lo = kj >= pad ? 0 : (pad - kj + stride - 1) / stride;
  // iw < W  <=>  ow*stride < W + pad - kj
  const std::size_t lim = W + pad;
  hi = lim <= kj ? 0 : std::min(Wo, (lim - kj + stride - 1) / stride);
  if (hi < lo) hi = lo;
}

template <typename T>
void im2col(const T* x, const ConvGeom& g, T* col) {
  const std::size_t Wo = g.Wo;
  for (std::size_t c = 0; c < g.C; ++c)
    for (std::size_t ki = 0; ki < g.kh; ++ki)
      for (std::size_t kj = 0; kj < g.kw; ++kj) {
        T* row = col + ((c * g.kh + ki) * g.kw + kj) * g.hw_out();
        std::size_t lo, hi;
        valid_range(Wo, g.W, g.stride, g.pad, kj, lo, hi);
        for (std::size_t oh = 0; oh < g.Ho; ++oh) {
          T* out = row + oh * Wo;
          const std::ptrdiff_t ih = std::ptrdiff_t(oh * g.stride + ki) - std::ptrdiff_t(g.pad);
          if (ih < 0 || ih >= std::ptrdiff_t(g.H)) {
            std::fill(out, out + Wo, T(0));
            continue;
          }
          const T* in = x + (c * g.H + std::size_t(ih)) * g.W;
          std::fill(out, out + lo, T(0));
          if (g.stride == 1) {
            if (hi > lo) std::memcpy(out + lo, in + lo + kj - g.pad, (hi - lo) * sizeof(T));
          } else {
            for (std::size_t ow = lo; ow < hi; ++ow) out[ow] = in[ow * g.stride + kj - g.pad];
          }
          std::fill(out + hi, out + Wo, T(0));
        }
      }
}

// dx (one image, already zeroed or holding earlier contributions) += col2im(dcol).
template <typename T>
void col2im_add(const T* col, const ConvGeom& g, T* dx) {
  const std::size_t Wo = g.Wo;
  for (std::size_t c = 0; c < g.C; ++c)
    for (std::size_t ki = 0; ki < g.kh; ++ki)
      for (std::size_t kj = 0; kj < g.kw; ++kj) {
        const T* row = col + ((c * g.kh + ki) * g.kw + kj) * g.hw_out();
        std::size_t lo, hi;
        valid_range(Wo, g.W, g.stride, g.pad, kj, lo, hi);
        for (std::size_t oh = 0; oh < g.Ho; ++oh) {
          const std::ptrdiff_t ih = std::ptrdiff_t(oh * g.stride + ki) - std::ptrdiff_t(g.pad);
          if (ih < 0 || ih >= std::ptrdiff_t(g.H)) continue;
          const T* src = row + oh * Wo;
          // ow >= lo guarantees ow*stride + kj >= pad: the input column index is not negative.
          T* dst = dx + (c * g.H + std::size_t(ih)) * g.W;
          if (g.stride == 1) {
            T* d = dst + (lo + kj - g.pad);
            for (std::size_t ow = lo; ow < hi; ++ow) d[ow - lo] += src[ow];
          } else {
            for (std::size_t ow = lo; ow < hi; ++ow) dst[ow * g.stride + kj - g.pad] += src[ow];
          }
        }
      }
}

// Splits images [0, N) into `parts` fixed chunks and runs body(part, begin, end) on TBB.
template <typename Body>
void over_chunks(std::size_t N, std::size_t parts, const Body& body) {
  if (parts <= 1) {
    body(std::size_t(0), std::size_t(0), N);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, parts, 1),
      [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t p = r.begin(); p < r.end(); ++p) body(p, N * p / parts, N * (p + 1) / parts);
      },
      tbb::simple_partitioner());
}

// Chunks to split the batch into: one per thread when the batch covers every thread and the
// work is big enough to be worth it; 1 otherwise (then GEMMs thread internally).
std::size_t batch_parts(const ConvGeom& g) {
  const std::size_t threads = static_cast<std::size_t>(std::max(1, num_threads()));
  const std::size_t work = g.N * g.Cout * g.ckk() * g.hw_out();
  if (threads <= 1 || g.N < threads || work < 64 * 64 * 64) return 1;
  return threads;
}

template <typename T>
T sum_contiguous(const T* p, std::size_t n) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  B acc0(T(0)), acc1(T(0));
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    acc0 += B::load_unaligned(p + i);
    acc1 += B::load_unaligned(p + i + W);
  }
  // (Summed through memory: xsimd's hadd trips a false -Wmaybe-uninitialized in GCC 12.)
  alignas(64) T lanes[W];
  (acc0 + acc1).store_aligned(lanes);
  T s = T(0);
  for (std::size_t l = 0; l < W; ++l) s += lanes[l];
  for (; i < n; ++i) s += p[i];
  return s;
}

}  // namespace

Shape conv2d_output_shape(const Shape& x_shape, const Shape& weight_shape, std::size_t stride,
                          std::size_t padding) {
  const ConvGeom g = make_geom(x_shape, weight_shape, stride, padding);
  return {g.N, g.Cout, g.Ho, g.Wo};
}

// y_n = Wm @ im2col(x_n) + bias
template <typename T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                 std::size_t stride, std::size_t padding, Tensor<T>* saved_input) {
  const ConvGeom g = make_geom(x.shape(), weight.shape(), stride, padding);
  if (saved_input) *saved_input = Tensor<T>();
  if (bias.defined() && bias.shape() != Shape{g.Cout})
    throw std::invalid_argument("conv2d: bias must have shape (" + std::to_string(g.Cout) +
                                "), got " + shape_str(bias.shape()));
  if (detail::conv2d_is_same(weight.shape(), stride, padding))
    return detail::conv2d_same(x, weight, bias, saved_input);
  Tensor<T> y = Tensor<T>::empty({g.N, g.Cout, g.Ho, g.Wo});
  const std::size_t parts = batch_parts(g);
  const std::size_t ckk = g.ckk(), hwo = g.hw_out();
  // GEMM packs its left operand once per image; from the transposed weight (C_in*kh*kw,
  // C_out) that packing is a run of contiguous copies instead of a strided gather.
  std::vector<T, xsimd::aligned_allocator<T, 64>> wt(ckk * g.Cout);
  for (std::size_t o = 0; o < g.Cout; ++o)
    for (std::size_t r = 0; r < ckk; ++r) wt[r * g.Cout + o] = weight[o * ckk + r];
  over_chunks(g.N, parts, [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t n = begin; n < end; ++n) {
      const T* xn = x.data() + n * g.C * g.hw_in();
      T* yn = y.data() + n * g.Cout * hwo;
      T* col = col_scratch<T>(ckk * hwo);
      im2col(xn, g, col);
      T beta = T(0);
      if (bias.defined()) {  // start each output channel at its bias, then add the product
        for (std::size_t o = 0; o < g.Cout; ++o) std::fill(yn + o * hwo, yn + (o + 1) * hwo, bias[o]);
        beta = T(1);
      }
      gemm<T>(true, false, g.Cout, hwo, ckk, T(1), wt.data(), g.Cout, col, hwo, beta, yn, hwo,
              parts == 1);
    }
  });
  return y;
}

// dx_n = col2im(Wm^T @ dy_n)
template <typename T>
Tensor<T> conv2d_backward_input(const Tensor<T>& grad_out, const Tensor<T>& weight,
                                const Shape& x_shape, std::size_t stride, std::size_t padding) {
  const ConvGeom g = make_geom(x_shape, weight.shape(), stride, padding);
  if (grad_out.shape() != Shape{g.N, g.Cout, g.Ho, g.Wo})
    throw std::invalid_argument("conv2d_backward_input: grad_out has shape " +
                                shape_str(grad_out.shape()) + ", expected " +
                                shape_str({g.N, g.Cout, g.Ho, g.Wo}));
  if (detail::conv2d_is_same(weight.shape(), stride, padding)) {
    Tensor<T> dx;
    detail::SameConvBackward<T> b;
    b.x_shape = x_shape;
    b.weight_shape = weight.shape();
    b.weight = &weight;
    b.dx = &dx;
    detail::conv2d_same_backward<T>(grad_out, b);
    return dx;
  }
  const std::size_t ckk = g.ckk(), hwo = g.hw_out(), hwi = g.hw_in();
  Tensor<T> dx(x_shape);  // col2im adds into it
  const std::size_t parts = batch_parts(g);
  over_chunks(g.N, parts, [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t n = begin; n < end; ++n) {
      const T* dyn = grad_out.data() + n * g.Cout * hwo;
      T* dxn = dx.data() + n * g.C * hwi;
      T* dcol = col_scratch<T>(ckk * hwo);
      gemm<T>(true, false, ckk, hwo, g.Cout, T(1), weight.data(), ckk, dyn, hwo, T(0), dcol, hwo,
              parts == 1);
      col2im_add(dcol, g, dxn);
    }
  });
  return dx;
}

// dWm = sum_n dy_n @ im2col(x_n)^T
template <typename T>
Tensor<T> conv2d_backward_weight(const Tensor<T>& grad_out, const Tensor<T>& x,
                                 const Shape& weight_shape, std::size_t stride,
                                 std::size_t padding) {
  const ConvGeom g = make_geom(x.shape(), weight_shape, stride, padding);
  if (grad_out.shape() != Shape{g.N, g.Cout, g.Ho, g.Wo})
    throw std::invalid_argument("conv2d_backward_weight: grad_out has shape " +
                                shape_str(grad_out.shape()) + ", expected " +
                                shape_str({g.N, g.Cout, g.Ho, g.Wo}));
  if (detail::conv2d_is_same(weight_shape, stride, padding)) {
    Tensor<T> dw;
    detail::SameConvBackward<T> b;
    b.x_shape = x.shape();
    b.weight_shape = weight_shape;
    b.x = &x;
    b.dw = &dw;
    detail::conv2d_same_backward<T>(grad_out, b);
    return dw;
  }
  const std::size_t ckk = g.ckk(), hwo = g.hw_out();
  const std::size_t wsize = g.Cout * ckk;
  Tensor<T> dw(weight_shape);
  const std::size_t parts = batch_parts(g);
  // Chunk 0 accumulates straight into dw; the others into their own partial sums.
  std::vector<T, xsimd::aligned_allocator<T, 64>> partials(parts > 1 ? (parts - 1) * wsize : 0,
                                                           T(0));
  over_chunks(g.N, parts, [&](std::size_t p, std::size_t begin, std::size_t end) {
    T* acc = p == 0 ? dw.data() : partials.data() + (p - 1) * wsize;
    for (std::size_t n = begin; n < end; ++n) {
      const T* xn = x.data() + n * g.C * g.hw_in();
      const T* dyn = grad_out.data() + n * g.Cout * hwo;
      T* col = col_scratch<T>(ckk * hwo);
      im2col(xn, g, col);
      gemm<T>(false, true, g.Cout, ckk, hwo, T(1), dyn, hwo, col, hwo, T(1), acc, ckk,
              parts == 1);
    }
  });
  T* d = dw.data();
  for (std::size_t p = 1; p < parts; ++p) {
    const T* src = partials.data() + (p - 1) * wsize;
    for (std::size_t i = 0; i < wsize; ++i) d[i] += src[i];
  }
  return dw;
}

template <typename T>
Conv2dGrads<T> conv2d_backward(const Tensor<T>& grad_out, const Tensor<T>& x,
                               const Tensor<T>& weight, std::size_t stride, std::size_t padding,
                               ConvGradsWanted wanted, const Tensor<T>* saved_input) {
  const bool need_input = wanted.input, need_weight = wanted.weight;
  Conv2dGrads<T> grads;
  if (detail::conv2d_is_same(weight.shape(), stride, padding) && (need_input || need_weight)) {
    const ConvGeom g = make_geom(x.shape(), weight.shape(), stride, padding);
    if (grad_out.shape() != Shape{g.N, g.Cout, g.Ho, g.Wo})
      throw std::invalid_argument("conv2d_backward: grad_out has shape " +
                                  shape_str(grad_out.shape()) + ", expected " +
                                  shape_str({g.N, g.Cout, g.Ho, g.Wo}));
    detail::SameConvBackward<T> b;
    b.x_shape = x.shape();
    b.weight_shape = weight.shape();
    b.x = &x;
    b.weight = &weight;
    b.x_planes = saved_input;
    b.dx = need_input ? &grads.input : nullptr;
    b.dw = need_weight ? &grads.weight : nullptr;
    detail::conv2d_same_backward<T>(grad_out, b);
    return grads;
  }
  if (need_input) grads.input = conv2d_backward_input(grad_out, weight, x.shape(), stride, padding);
  if (need_weight)
    grads.weight = conv2d_backward_weight(grad_out, x, weight.shape(), stride, padding);
  return grads;
}

// db[o] = sum over n, h, w of dy[n, o, h, w]
template <typename T>
Tensor<T> conv2d_backward_bias(const Tensor<T>& grad_out) {
  if (grad_out.dim() != 4)
    throw std::invalid_argument("conv2d_backward_bias: grad_out must be 4-D, got " +
                                shape_str(grad_out.shape()));
  const std::size_t N = grad_out.shape()[0], Cout = grad_out.shape()[1];
  const std::size_t hw = grad_out.shape()[2] * grad_out.shape()[3];
  Tensor<T> db({Cout});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t o = 0; o < Cout; ++o)
      db[o] += sum_contiguous(grad_out.data() + (n * Cout + o) * hw, hw);
  return db;
}

#define FZ_INSTANTIATE_CONV(T)                                                                 \
  template Tensor<T> conv2d(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, std::size_t, \
                            std::size_t, Tensor<T>*);                                          \
  template Tensor<T> conv2d_backward_input(const Tensor<T>&, const Tensor<T>&, const Shape&,   \
                                           std::size_t, std::size_t);                          \
  template Tensor<T> conv2d_backward_weight(const Tensor<T>&, const Tensor<T>&, const Shape&,  \
                                            std::size_t, std::size_t);                         \
  template Tensor<T> conv2d_backward_bias(const Tensor<T>&);                                    \
  template Conv2dGrads<T> conv2d_backward(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,   \
                                          std::size_t, std::size_t, ConvGradsWanted, const Tensor<T>*);
FZ_INSTANTIATE_CONV(float)
FZ_INSTANTIATE_CONV(double)
#undef FZ_INSTANTIATE_CONV

}  // namespace fz
