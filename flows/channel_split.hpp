// flows/channel_split.hpp — splitting and merging the channel axis (axis 1) of a batch,
// the bookkeeping behind couplings and multi-scale factor-out:
//   channel_halves:      first C/2 channels | last C/2 channels      (Glow, RealNVP channel-wise)
//   interleaved_channels: even channels      | odd channels           (Glow's shift/scale, split prior)
// For 2-D tensors (batch, features) axis 1 is the feature axis, so the same helpers split vectors.
#pragma once

#include <utility>

#include "../autograd/var.hpp"

namespace fz {

template <typename T>
std::pair<Var<T>, Var<T>> channel_halves(const Var<T>& x);
template <typename T>
Var<T> merge_channel_halves(const Var<T>& a, const Var<T>& b);

// x[:, 0::2] and x[:, 1::2] (C must be even).
template <typename T>
std::pair<Var<T>, Var<T>> interleaved_channels(const Var<T>& x);
// Inverse of interleaved_channels.
template <typename T>
Var<T> merge_interleaved_channels(const Var<T>& even, const Var<T>& odd);

}  // namespace fz
