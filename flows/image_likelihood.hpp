// flows/image_likelihood.hpp — from 8-bit pixels to a continuous density and back to bits/dim.
//
// Uniform dequantization: x = (pixel + u) / 256 with u ~ U[0, 1), so x lies in [0, 1).
// A density p on [0, 1)^D gives each 8-bit image (a cube of side 1/256) probability about
// p(x) / 256^D, so its code length in bits per dimension is
//     bpd = -(log p(x) - D ln 256) / (D ln 2),
// where log p(x) already includes every preprocessing log-det (logit, centering, ...).
// Uniform dequantization makes this an upper bound on the discrete negative log-likelihood.
#pragma once

#include <cstdint>

#include "../autograd/var.hpp"
#include "../tensor/random.hpp"
#include "../tensor/tensor.hpp"

namespace fz {

// (pixel + u) / 2^bits, u ~ U[0,1) per element (bits = 8 for ordinary images).
template <typename T>
Tensor<T> dequantize(const TensorU8& pixels, Rng& rng, int bits = 8);

// Pixels to [0, 1) bin centres, (pixel + 0.5) / 2^bits: deterministic, for reconstructions.
template <typename T>
Tensor<T> pixels_to_unit(const TensorU8& pixels, int bits = 8);

// Continuous [0,1] data back to 8-bit pixels (floor(x * 2^bits), clamped).
template <typename T>
TensorU8 unit_to_pixels(const Tensor<T>& x, int bits = 8);

// Mean bits/dim over the batch, differentiable: log_prob (B,) in nats, D dims per sample.
template <typename T>
Var<T> bits_per_dim(const Var<T>& log_prob, std::size_t dims, int bits = 8);

// The same for plain numbers: bpd of one sample's log-density.
double bits_per_dim(double log_prob_nats, std::size_t dims, int bits = 8);

}  // namespace fz
