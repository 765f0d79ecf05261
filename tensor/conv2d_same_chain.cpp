// tensor/conv2d_same_chain.cpp — "same" convolutions with affine epilogues in a row
// (conv2d_same_affine_chain, the same-geometry path of tensor/conv2d_affine.hpp's
// conv2d_affine_chain), forward and backward, whose activations go from one GEMM's output
// straight into the next one's planes. See conv2d_same_planes.hpp for which file has what.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "tensor/conv2d_same.hpp"
#include "tensor/conv2d_same_epilogue.hpp"
#include "tensor/conv2d_same_gemm.hpp"
#include "tensor/conv2d_same_planes.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/gemm_dots.hpp"
#include "tensor/parallel.hpp"
#include "tensor/scratch.hpp"
#include "tensor/simd.hpp"

namespace fz::detail {

using namespace same_conv;

namespace {

// ---- epilogues between the layers of a chain -------------------------------------------------
//
// A chain lays every layer out in one plane geometry (padding for its largest kernel), so the
// output positions of one layer and the input plane of the next coincide position for position:
// the epilogue between them is a flat pass over the positions, with a 0/1 mask for the
// separators, instead of row by row.

// 1 at the positions of pixels, 0 at separators, for pl.Q positions (and a spare vector of 0).
template <typename T>
const T* pixel_mask(const Plane& pl) {
  struct PixelMask {};
  const std::size_t V = xsimd::batch<T>::size;
  T* mask = thread_scratch<PixelMask, T>(0, pl.Q + V);
  for (std::size_t q = 0; q < pl.Q; ++q)
    mask[q] = (q / pl.R) % pl.period < pl.H && q % pl.R < pl.W ? T(1) : T(0);
  std::fill(mask + pl.Q, mask + pl.Q + V, T(0));
  return mask;
}

// h (C planes) = act(s_c * z + t_c) at the pixels, 0 everywhere else; z in positions (pl).
template <typename T, bool RELU>
void affine_positions_to_planes(const T* z, std::size_t C, const Plane& pl, const T* s,
                                const T* t, const T* mask, T* h) {
  using B = xsimd::batch<T>;
  constexpr std::size_t V = B::size;
  parallel_for(C, std::max<std::size_t>(1, kParallelGrain / (pl.len + 1)),
               [&](std::size_t c0, std::size_t c1) {
                 for (std::size_t c = c0; c < c1; ++c) {
                   const T* zc = z + c * pl.Q;
                   T* plane = h + c * pl.len;
                   const B vs(s[c]), vt(t[c]), zero(T(0));
                   auto f = [&](const B& zv, const B& m) {
                     const B a = xsimd::fma(zv, vs, vt);
                     return (RELU ? xsimd::max(a, zero) : a) * m;
                   };
                   std::fill(plane, plane + pl.q0, T(0));
                   std::size_t q = 0;
                   for (; q + V <= pl.Q; q += V)
                     f(B::load_unaligned(zc + q), B::load_unaligned(mask + q))
                         .store_unaligned(plane + pl.q0 + q);
                   if (q < pl.Q)
                     simd::store_partial(f(simd::load_partial(zc + q, pl.Q - q),
                                           simd::load_partial(mask + q, pl.Q - q)),
                                         plane + pl.q0 + q, pl.Q - q);
                   std::fill(plane + pl.q0 + pl.Q, plane + pl.len, T(0));
                 }
               });
}

// dz (C planes) = s_c * g * mask, with g = dL/dy and the saved z both in positions (pl);
// dscale[c] = sum g mask z, dshift[c] = sum g mask over the pixels.
template <typename T, bool RELU>
void affine_grad_positions(const T* g, const T* z, std::size_t C, const Plane& pl, const T* s,
                           const T* t, const T* mask, T* dz, T* dscale, T* dshift) {
  using B = xsimd::batch<T>;
  constexpr std::size_t V = B::size;
  parallel_for(C, std::max<std::size_t>(1, kParallelGrain / (pl.len + 1)),
               [&](std::size_t c0, std::size_t c1) {
                 for (std::size_t c = c0; c < c1; ++c) {
                   const T* gc = g + c * pl.Q;
                   const T* zc = z + c * pl.Q;
                   T* plane = dz + c * pl.len;
                   const B vs(s[c]), vt(t[c]), zero(T(0));
                   B acc_gz(T(0)), acc_g(T(0));
                   auto f = [&](const B& gv, const B& zv, const B& m) {
                     const B gp = gv * m;  // dL/dy at separators is not a gradient: drop it
                     const B gm = RELU ? xsimd::select(xsimd::fma(zv, vs, vt) > zero, gp, zero) : gp;
                     acc_gz = xsimd::fma(gm, zv, acc_gz);
                     acc_g += gm;
                     return gm * vs;
                   };
                   std::fill(plane, plane + pl.q0, T(0));
                   std::size_t q = 0;
                   for (; q + V <= pl.Q; q += V)
                     f(B::load_unaligned(gc + q), B::load_unaligned(zc + q),
                       B::load_unaligned(mask + q))
                         .store_unaligned(plane + pl.q0 + q);
                   if (q < pl.Q) {
                     const std::size_t r = pl.Q - q;
                     simd::store_partial(f(simd::load_partial(gc + q, r), simd::load_partial(zc + q, r),
                                           simd::load_partial(mask + q, r)),
                                         plane + pl.q0 + q, r);
                   }
                   std::fill(plane + pl.q0 + pl.Q, plane + pl.len, T(0));
                   dscale[c] = lane_sum(acc_gz);
                   dshift[c] = lane_sum(acc_g);
                 }
               });
}

}  // namespace

// The layers of conv2d_affine_chain share one plane geometry L (padding for the largest
// kernel). Layer i's convolution output z_i is in L's positions, except for a chain of 1x1
// layers only (L unpadded), whose first layer runs per image on NCHW data.
template <typename T>
Rows<const T> chain_z_rows(const Tensor<T>& z, std::size_t i, std::size_t C, const Plane& L) {
  return i == 0 && L.p == 0 ? nchw_rows(z.data(), C, L) : position_rows(z.data(), C, L);
}

template <typename T>
Plane chain_layout(const Shape& xs, const std::vector<ChainLayer<T>>& layers) {
  std::size_t kmax = 1;
  for (const ChainLayer<T>& l : layers) kmax = std::max(kmax, l.weight->shape()[2]);
  return Plane(xs[0], xs[2], xs[3], kmax);
}

template <typename T>
Tensor<T> conv2d_same_affine_chain(const Tensor<T>& x, bool relu_input,
                                   const std::vector<ChainLayer<T>>& layers,
                                   ConvAffineChainSaved<T>& saved, bool keep_x_layout) {
  std::vector<Tensor<T>>* z = &saved.z;
  std::vector<Tensor<T>>* h = &saved.h;
  Tensor<T>* x_layout = keep_x_layout ? &saved.x_layout : nullptr;
  const Shape& xs = x.shape();
  const std::size_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], V = xsimd::batch<T>::size;
  const std::size_t hw = H * W, m = layers.size();
  const Plane L = chain_layout(xs, layers);
  z->assign(m, Tensor<T>());
  h->assign(m, Tensor<T>());
  std::vector<std::size_t> ch, k;  // output channels and kernel size per layer
  for (const ChainLayer<T>& l : layers) {
    ch.push_back(l.weight->shape()[0]);
    k.push_back(l.weight->shape()[2]);
  }
  auto new_positions = [&](std::size_t channels) {
    Tensor<T> t = Tensor<T>::empty({channels * L.Q + V});  // a spare vector for whole-vector reads
    std::fill(t.data() + channels * L.Q, t.data() + t.numel(), T(0));
    return t;
  };
  // Layer 0 from x, as conv2d_same_affine does.
  if (L.p == 0) {  // only 1x1 layers: per image, NCHW
    // 1x1 reads x in place, so relu(x) needs its own copy.
    const Tensor<T> rectified = relu_input ? fz::relu(x) : Tensor<T>();
    const Tensor<T>& in = relu_input ? rectified : x;
    (*z)[0] = Tensor<T>::empty({N, ch[0], H, W});
    conv1x1_per_image(false, layers[0].weight->data(), ch[0], C, in.data(), C * hw, hw, N, hw,
                      static_cast<const T*>(nullptr), (*z)[0].data());
  } else {
    T* planes = input_planes(x_layout, C, L);
    to_plane(x.data(), C, L, planes, relu_input);
    (*z)[0] = new_positions(ch[0]);
    conv_positions(static_cast<const T*>(planes), C, L, layers[0].weight->data(), ch[0],
                   (*z)[0].data(), k[0]);
  }
  // Each later layer's input planes are written by the previous layer's epilogue directly (the
  // activation is never NCHW), position for position.
  const T* mask = L.p > 0 ? pixel_mask<T>(L) : nullptr;
  for (std::size_t i = 1; i < m; ++i) {
    const ChainLayer<T>& prev = layers[i - 1];
    (*h)[i] = Tensor<T>::empty({ch[i - 1] * L.len});
    if (i == 1 && L.p == 0)
      affine_out(chain_z_rows((*z)[0], 0, ch[0], L), plane_rows((*h)[i].data(), ch[0], L),
                 ch[0], L, prev.scale, prev.shift, prev.relu, &L);
    else if (prev.relu)
      affine_positions_to_planes<T, true>((*z)[i - 1].data(), ch[i - 1], L, prev.scale,
                                          prev.shift, mask, (*h)[i].data());
    else
      affine_positions_to_planes<T, false>((*z)[i - 1].data(), ch[i - 1], L, prev.scale,
                                           prev.shift, mask, (*h)[i].data());
    (*z)[i] = new_positions(ch[i]);
    conv_positions(static_cast<const T*>((*h)[i].data()), ch[i - 1], L, layers[i].weight->data(),
                   ch[i], (*z)[i].data(), k[i]);
  }
  const ChainLayer<T>& last = layers[m - 1];
  Tensor<T> y = Tensor<T>::empty({N, ch[m - 1], H, W});
  affine_out(chain_z_rows((*z)[m - 1], m - 1, ch[m - 1], L), nchw_rows(y.data(), ch[m - 1], L),
             ch[m - 1], L, last.scale, last.shift, last.relu);
  return y;
}

template <typename T>
void conv2d_same_affine_chain_backward(const Tensor<T>& g, const Tensor<T>& x, bool relu_input,
                                       const std::vector<ChainLayer<T>>& layers,
                                       const ConvAffineChainSaved<T>& saved, Tensor<T>* dx,
                                       std::vector<ChainGrads<T>>& grads) {
  const std::vector<Tensor<T>>& z = saved.z;
  const std::vector<Tensor<T>>& h = saved.h;
  const Shape& xs = x.shape();
  const std::size_t N = xs[0], H = xs[2], W = xs[3], V = xsimd::batch<T>::size;
  const std::size_t m = layers.size();
  const Plane L = chain_layout(xs, layers);
  std::vector<std::size_t> ch, k;
  for (std::size_t i = 0; i < m; ++i) {
    ch.push_back(layers[i].weight->shape()[0]);
    k.push_back(layers[i].weight->shape()[2]);
    const std::size_t want_z = i == 0 && L.p == 0 ? N * ch[i] * H * W : ch[i] * L.Q + V;
    const std::size_t in_ch = layers[i].weight->shape()[1];
    if (z[i].numel() != want_z || (i > 0 && h[i].numel() != in_ch * L.len))
      throw std::invalid_argument("conv2d_affine_chain backward: the saved activations of layer " +
                                  std::to_string(i) + " do not fit input " + shape_str(xs));
  }
  const T* mask = L.p > 0 ? pixel_mask<T>(L) : nullptr;
  // dz_i (planes) for layer i from dL/d(its output): NCHW for the last layer (row by row), else
  // the positions of the layer above's input-gradient GEMM (flat, masked).
  const T* dh = nullptr;
  auto layer_dz = [&](std::size_t i, T* dz) {
    const ChainLayer<T>& l = layers[i];
    T* ds = grads[i].scale.data();
    T* dt = grads[i].shift.data();
    if (i == m - 1)
      affine_grad_planes(nchw_rows(g.data(), ch[i], L), chain_z_rows(z[i], i, ch[i], L), ch[i], L,
                         l.scale, l.shift, l.relu, dz, ds, dt);
    else if (L.p == 0)  // the first of 1x1 layers only: z_0 is NCHW
      affine_grad_planes(position_rows(dh, ch[i], L), chain_z_rows(z[i], i, ch[i], L), ch[i], L,
                         l.scale, l.shift, l.relu, dz, ds, dt);
    else if (l.relu)
      affine_grad_positions<T, true>(dh, z[i].data(), ch[i], L, l.scale, l.shift, mask, dz, ds, dt);
    else
      affine_grad_positions<T, false>(dh, z[i].data(), ch[i], L, l.scale, l.shift, mask, dz, ds,
                                      dt);
  };
  // From the last layer down: dz_i, the weight gradient against layer i's input planes, and
  // dL/d(input of layer i) in positions, which the layer below reads in place.
  for (std::size_t i = m - 1; i > 0; --i) {
    const std::size_t in_ch = ch[i - 1];
    T* dz = plane_scratch<T>(0, ch[i] * L.len);
    layer_dz(i, dz);
    const std::vector<const T*> lines = tap_lines(h[i].data(), in_ch, L, k[i]);
    grads[i].weight = Tensor<T>::empty(layers[i].weight->shape());
    gemm_dots<T>(ch[i], in_ch * k[i] * k[i], L.Q, dz + L.q0, L.len, lines.data(),
                 grads[i].weight.data(), in_ch * k[i] * k[i]);
    const auto flipped = flip_weight(*layers[i].weight);
    T* next_dh = plane_scratch<T>(1, in_ch * L.Q + V);
    std::fill(next_dh + in_ch * L.Q, next_dh + in_ch * L.Q + V, T(0));
    conv_positions(static_cast<const T*>(dz), ch[i], L, flipped.data(), in_ch, next_dh, k[i]);
    dh = next_dh;
  }
  T* dz0 = plane_scratch<T>(0, ch[0] * L.len);  // the buffers above are no longer needed
  layer_dz(0, dz0);
  SameConvBackward<T> first;
  first.x_shape = xs;
  first.weight_shape = layers[0].weight->shape();
  first.x = &x;
  first.weight = layers[0].weight;
  first.x_planes = &saved.x_layout;  // undefined when the forward pass did not keep it
  first.dx = dx;
  first.dw = grads[0].weight_wanted ? &grads[0].weight : nullptr;
  backward_from_dy_planes(static_cast<const T*>(dz0), L, first, relu_input);
}

#define FZ_INSTANTIATE_CONV_SAME_CHAIN(T)                                                   \
  template Tensor<T> conv2d_same_affine_chain(const Tensor<T>&, bool,                      \
                                              const std::vector<ChainLayer<T>>&,             \
                                              ConvAffineChainSaved<T>&, bool);               \
  template void conv2d_same_affine_chain_backward(                                          \
      const Tensor<T>&, const Tensor<T>&, bool, const std::vector<ChainLayer<T>>&,            \
      const ConvAffineChainSaved<T>&, Tensor<T>*, std::vector<ChainGrads<T>>&);
FZ_INSTANTIATE_CONV_SAME_CHAIN(float)
FZ_INSTANTIATE_CONV_SAME_CHAIN(double)
#undef FZ_INSTANTIATE_CONV_SAME_CHAIN

}  // namespace fz::detail
