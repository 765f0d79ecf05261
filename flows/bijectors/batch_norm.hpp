// flows/bijectors/batch_norm.hpp — RealNVP's batch-normalisation bijector, per channel
// (axis 1; for vectors (B, D), per feature). With mean m and variance v of channel c:
//   forward:  y = (x - m) / sqrt(v + eps) * exp(log_gamma) + beta
//             log|det J| = (spatial size) * sum_c (log_gamma_c - 0.5 log(v_c + eps))
//   inverse:  x = (y - beta) * exp(-log_gamma) * sqrt(v + eps) + m,  the negative log-det.
// Training mode, forward: m, v are the statistics of the batch (biased variance, over batch and
// spatial axes; gradients flow through them) and the running statistics are updated in place:
//   running = (1 - momentum) * running + momentum * batch   (PyTorch's convention; the running
//   variance takes the unbiased batch variance, as torch.nn.BatchNorm does).
// Eval mode, and inverse in either mode: m, v are the running statistics (a latent batch has no
// data statistics of its own), so the per-sample Jacobian is exactly the diagonal above.
// Parameters "log_gamma", "beta" (C, init 0); persistent buffers "running_mean" (C, init 0),
// "running_var" (C, init 1).
#pragma once

#include <string>

#include "../bijector.hpp"

namespace fz {

template <typename T>
class BatchNormBijector : public Bijector<T> {
 public:
  explicit BatchNormBijector(std::size_t channels, T momentum = T(0.1), T eps = T(1e-5));
  std::string type_name() const override { return "BatchNormBijector"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

  const Tensor<T>& running_mean() const { return running_mean_; }
  const Tensor<T>& running_var() const { return running_var_; }

 private:
  void check(const Shape& s, const char* who) const;
  std::size_t channels_;
  T momentum_, eps_;
  Var<T> log_gamma_, beta_;
  Tensor<T> running_mean_, running_var_;
};

extern template class BatchNormBijector<float>;
extern template class BatchNormBijector<double>;

}  // namespace fz
