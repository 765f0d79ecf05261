// autograd/optim/clip.hpp — gradient clipping, applied between backward() and step().
//
// clip_grad_norm rescales all gradients together (as one concatenated vector) so that their
// 2-norm is at most max_norm, as torch.nn.utils.clip_grad_norm_ does:
//   total = sqrt(sum over params of |grad|^2);  if total > max_norm: grad *= max_norm / (total + 1e-6)
// It returns `total` (before clipping). A NaN or infinite total leaves the gradients
// untouched and is returned as is — check std::isfinite(total) to skip the step — or throws
// std::runtime_error when error_if_nonfinite is set. Parameters without a gradient are skipped.
#pragma once

#include <vector>

#include "../var.hpp"

namespace fz {

template <typename T>
double clip_grad_norm(const std::vector<Var<T>>& params, double max_norm,
                      bool error_if_nonfinite = false);

// The 2-norm of all gradients together (computed in double; not modified).
template <typename T>
double grad_norm(const std::vector<Var<T>>& params);

// True when every defined gradient is finite (no NaN or infinity).
template <typename T>
bool grads_finite(const std::vector<Var<T>>& params);

// Clamps every gradient element into [-clip_value, clip_value].
template <typename T>
void clip_grad_value(const std::vector<Var<T>>& params, double clip_value);

}  // namespace fz
