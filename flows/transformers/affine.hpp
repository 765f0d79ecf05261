// flows/transformers/affine.hpp — RealNVP's affine transformer:
//   log_s = scale * tanh(s)     (learned per-channel "scale", init 1: RealNVP's images)
//   log_s = tanh(s)             (learned_scale = false: the 2-D toys)
//   forward  y = x * exp(log_s) + t        log-derivative log_s
//   inverse  x = (y - t) * exp(-log_s)     log-derivative -log_s
// P = 2 in the blocked layout: params (B, 2k, rest...) holds s in channels [0, k) and t in
// [k, 2k). "scale" has k entries (one per transformed channel) and broadcasts over the rest;
// it is this module's own parameter, which Coupling adopts under the same name, so checkpoints
// keep the name "scale" they always had.
//
// Fast path (FusedSplitCoupling): with log_s = tanh(s) on a split partition, the whole coupling
// forward is affine_coupling_tanh's two ops.
#pragma once

#include <cstddef>
#include <string>

#include "fused_split_coupling.hpp"
#include "transformer.hpp"

namespace fz {

template <typename T>
class AffineTransformer : public Transformer<T>, public FusedSplitCoupling<T> {
 public:
  // channels: k, the transformed part's size on axis 1 (the length of "scale").
  AffineTransformer(std::size_t channels, bool learned_scale);
  std::string type_name() const override { return "Affine"; }
  std::size_t parameters_per_element() const override { return 2; }
  Elementwise<T> forward(const Var<T>& x, const Var<T>& params) override;
  Elementwise<T> inverse(const Var<T>& y, const Var<T>& params) override;

  bool fuses(const Partition& partition) const override { return !learned_scale_ && !partition.is_masked(); }
  Transformed<T> fused_coupling_forward(const Var<T>& x, const Var<T>& params, const Partition& partition) override;

  bool learned_scale() const { return learned_scale_; }

 private:
  // (log_s, t) from params, after checking they fit x.
  std::pair<Var<T>, Var<T>> log_scale_and_shift(const Var<T>& x, const Var<T>& params, const char* who) const;
  std::size_t channels_;
  bool learned_scale_;
  Var<T> scale_;
};

// The forward transform of a split coupling with log_s = tanh(s) (the 2-D toys) as two ops
// instead of a chain of slices, reshapes, concats and elementwise ops. For x (B, C, rest...)
// divided by a split `partition` into a and b (k = C/2 channels each) and the net output h
// (B, 2k, rest...), s = h[:, :k], t = h[:, k:]:
//   value  = x with b replaced by b * exp(tanh(s)) + t       (op "affine_coupling")
//   logdet = per-sample sum of tanh(s)                       (op "affine_coupling_logdet")
// Equal to the unfused forward (split, tanh, exp, mul, add, merge, sum_per_sample). The op is
// autograd/ops_affine_coupling.hpp's (with its plain form, run under reference_ops()); this
// overload names the channels by the partition.
template <typename T>
Transformed<T> affine_coupling_tanh(const Var<T>& x, const Var<T>& h, const Partition& partition);

extern template class AffineTransformer<float>;
extern template class AffineTransformer<double>;

}  // namespace fz
