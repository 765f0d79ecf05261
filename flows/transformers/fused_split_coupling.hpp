// flows/transformers/fused_split_coupling.hpp — an optional second interface for a transformer
// that can compute a whole coupling forward (split partition, the transformer, the merge and the
// log-det sum) as a few fused ops instead of the generic chain of gathers, slices, elementwise
// ops and merges. Coupling (flows/bijectors/coupling.hpp) asks for it with a dynamic_cast at
// construction and uses it, when fuses() says so, for the forward direction (the one training
// runs); the inverse always takes the generic path. The fused result must equal the generic
// one (tests/flows/test_nice_realnvp.cpp checks the affine one op by op, with gradients).
#pragma once

#include "../bijector.hpp"
#include "../bijectors/partition.hpp"

namespace fz {

template <typename T>
class FusedSplitCoupling {
 public:
  virtual ~FusedSplitCoupling() = default;
  // Whether fused_coupling_forward covers this partition (and this transformer's settings).
  virtual bool fuses(const Partition& partition) const = 0;
  // x: the whole coupling input; params: the conditioner's output for partition's a part.
  virtual Transformed<T> fused_coupling_forward(const Var<T>& x, const Var<T>& params,
                                                const Partition& partition) = 0;
};

}  // namespace fz
