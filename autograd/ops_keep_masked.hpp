// autograd/ops_keep_masked.hpp — a checkerboard coupling's merge: x where the (H, W) mask is
// on, tau(x) where it is off, for every sample and channel, as one op; and its plain form.
// flows/bijectors/coupling.cpp (Coupling's masked partitions) is the user.
#pragma once

#include "var.hpp"

namespace fz {

// y = mask ? x : tau per element, with mask (1, 1, H, W) of 0s and 1s over x, tau (B, C, H, W).
// dL/dx = G on the mask, dL/dtau = G off it. Throws std::invalid_argument for other shapes.
template <typename T>
Var<T> keep_masked(const Var<T>& x, const Var<T>& tau, const Tensor<T>& mask);

// The plain form: where(mask, x, tau) with the mask broadcast (what reference_ops() runs).
template <typename T>
Var<T> keep_masked_reference(const Var<T>& x, const Var<T>& tau, const Tensor<T>& mask);

}  // namespace fz
