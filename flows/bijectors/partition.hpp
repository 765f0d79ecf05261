// flows/bijectors/partition.hpp — how a coupling layer divides its input into the part that
// conditions (a, passed through unchanged) and the part that is transformed (b).
//
//   EvenOdd        vectors (B, D), D even:   a = x[:, 0::2], b = x[:, 1::2]       (NICE; the 2-D
//                  toy: a = coordinate 0, b = coordinate 1)
//   ChannelHalves  (B, C, ...), C even:      a = first C/2 channels, b = last C/2 (RealNVP
//                  channel-wise couplings after a squeeze)
//   Checkerboard   images (B, C, H, W):      no split; a mask of shape (1, 1, H, W) is 1 on the
//                  conditioning pixels, those with (i + j) even, and 0 on the transformed ones,
//                  for every channel (RealNVP's spatial checkerboard).
// parity = true swaps the roles (odd features / first-half channels / (i + j) odd pixels are
// transformed instead); alternating couplings alternate the parity.
//
// Conditioner sizes (channels for images, features for vectors), for an input of C channels:
//   EvenOdd, ChannelHalves: input C/2 -> output k * C/2
//   Checkerboard:           input C + 1 (x * mask, then the mask as one more channel)
//                           -> output k * C (k = 1 additive, k = 2 affine)
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "../../autograd/var.hpp"

namespace fz {

enum class PartitionKind { EvenOdd, ChannelHalves, Checkerboard };

std::string partition_name(PartitionKind kind);

struct Partition {
  PartitionKind kind = PartitionKind::EvenOdd;
  bool parity = false;

  std::string name() const;  // e.g. "checkerboard(parity 1)"
  bool is_masked() const { return kind == PartitionKind::Checkerboard; }

  // Channels (features) the conditioner sees, and channels of the transformed part, for an
  // input with `channels` entries on axis 1.
  std::size_t conditioner_in_channels(std::size_t channels) const;
  std::size_t transformed_channels(std::size_t channels) const;

  // Split kinds only: (conditioning part a, transformed part b) and its inverse.
  template <typename T>
  std::pair<Var<T>, Var<T>> split(const Var<T>& x) const;
  template <typename T>
  Var<T> merge(const Var<T>& a, const Var<T>& b) const;
  // Split kinds only: split(x).first alone, as one op (a channel gather; its backward scatters
  // G back). The fused coupling forward needs nothing else from the split.
  template <typename T>
  Var<T> conditioning_part(const Var<T>& x) const;
  // Split kinds only: which of the input's `channels` channels holds channel j of a (of b).
  std::size_t conditioning_channel(std::size_t j, std::size_t channels) const;
  std::size_t transformed_channel(std::size_t j, std::size_t channels) const;

  // Checkerboard only: the (1, 1, H, W) mask, 1 on the conditioning pixels.
  template <typename T>
  Tensor<T> mask(std::size_t height, std::size_t width) const;
  // Checkerboard only: the conditioner input concat(x * mask, mask broadcast to (B, 1, H, W)).
  template <typename T>
  Var<T> masked_conditioner_input(const Var<T>& x, const Tensor<T>& mask) const;

  // Throws std::invalid_argument (naming `who` and the shape) if `shape` does not suit this
  // partition: EvenOdd wants (B, D) with D even, ChannelHalves (B, C, ...) with C even,
  // Checkerboard (B, C, H, W).
  void check_shape(const Shape& shape, const char* who) const;
};

}  // namespace fz
