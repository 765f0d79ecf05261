// autograd/ops_affine_coupling.hpp — the forward transform of an affine coupling with
// log_s = tanh(s) on a split of the channels (RealNVP's 2-D toys) as two fused ops, and its
// plain composition of primitive ops (what reference_ops() runs; tests/autograd/
// test_reference_ops.cpp holds them equal).
//
// For x (B, C, rest...) whose channels are divided into a conditioning part a (channels
// conditioning[j]) and a transformed part b (channels transformed[j]), k = C / 2 each, and the
// conditioner's output h (B, 2k, rest...) with s = h[:, :k], t = h[:, k:]:
//   value  = x with b replaced by b * exp(tanh(s)) + t        (op "affine_coupling")
//   logdet = per-sample sum of tanh(s)                        (op "affine_coupling_logdet")
// flows/transformers/affine.hpp's AffineTransformer is the bijector-side user (its
// FusedSplitCoupling fast path); the partition (flows/bijectors/partition.hpp) supplies the
// two channel lists.
#pragma once

#include <cstddef>
#include <vector>

#include "var.hpp"

namespace fz {

// Which channels of x are the conditioning part (a) and which the transformed part (b):
// k = C / 2 entries each, together every channel once.
struct CouplingChannels {
  std::vector<std::size_t> conditioning, transformed;
};

template <typename T>
struct AffineCouplingOutput {
  Var<T> value;   // like x
  Var<T> logdet;  // (B)
};

template <typename T>
AffineCouplingOutput<T> affine_coupling_tanh(const Var<T>& x, const Var<T>& h,
                                             const CouplingChannels& channels);

// The same from slice, tanh, exp, mul, add, concat and sum: b's channels sliced out of x one
// by one, y = b * exp(tanh(s)) + t, and the output's channels concatenated back in order.
template <typename T>
AffineCouplingOutput<T> affine_coupling_tanh_reference(const Var<T>& x, const Var<T>& h,
                                                       const CouplingChannels& channels);

}  // namespace fz
