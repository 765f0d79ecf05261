// flows/reverse_kl.hpp — variational inference with a flow: fitting q (a FlowModel) to an
// unnormalised target p(x) = exp(-U(x)) / Z (flows/energies.hpp) by minimising the reverse KL
//   KL(q || p) = E_q[log q(x) + U(x)] + log Z,
// estimated with reparametrised samples x = T(z), z ~ base (FlowModel::rsample_with_log_prob),
// so the gradient flows through the sampling path. log Z does not depend on q: the loss leaves
// it out, and the printed KL adds the integrated one (flows/energy_integral.hpp), which makes the
// printed number a KL (>= 0 up to its Monte Carlo error).
#pragma once

#include <cstddef>

#include "energies.hpp"
#include "flow_model.hpp"

namespace fz {

// log q(x) + U(x) for n reparametrised samples, shape (n,), on the tape; the loss is its mean.
template <typename T>
Var<T> reverse_kl_terms(FlowModel<T>& q, Energy2D target, std::size_t n, Rng& rng);

struct KlEstimate {
  double kl = 0;              // mean of log q + U over the samples, plus log Z (nats)
  double standard_error = 0;  // sample sd / sqrt(samples)
  std::size_t samples = 0;
};

// The KL from `samples` fresh samples drawn in chunks of `chunk` (no gradients recorded).
template <typename T>
KlEstimate estimate_reverse_kl(FlowModel<T>& q, Energy2D target, double log_z, std::size_t samples, Rng& rng,
                               std::size_t chunk = 4096);

extern template Var<float> reverse_kl_terms<float>(FlowModel<float>&, Energy2D, std::size_t, Rng&);
extern template Var<double> reverse_kl_terms<double>(FlowModel<double>&, Energy2D, std::size_t, Rng&);
extern template KlEstimate estimate_reverse_kl<float>(FlowModel<float>&, Energy2D, double, std::size_t, Rng&, std::size_t);
extern template KlEstimate estimate_reverse_kl<double>(FlowModel<double>&, Energy2D, double, std::size_t, Rng&, std::size_t);

}  // namespace fz
