// flows/reverse_kl.cpp — the reverse-KL loss terms and the KL estimate with its standard error.
#include "flows/reverse_kl.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/ops_elementwise.hpp"

namespace fz {

template <typename T>
Var<T> reverse_kl_terms(FlowModel<T>& q, Energy2D target, std::size_t n, Rng& rng) {
  if (q.event_shape() != Shape{2})
    throw std::invalid_argument("reverse KL: the energies are 2-D, the flow's samples are " + shape_str(q.event_shape()));
  auto [x, log_q] = q.rsample_with_log_prob(n, rng);
  return log_q + energy(target, x);
}

template <typename T>
KlEstimate estimate_reverse_kl(FlowModel<T>& q, Energy2D target, double log_z, std::size_t samples, Rng& rng,
                               std::size_t chunk) {
  if (samples < 2 || chunk == 0) throw std::invalid_argument("estimate_reverse_kl: needs at least 2 samples");
  NoGradGuard no_grad;
  double sum = 0, sum_sq = 0;
  for (std::size_t done = 0; done < samples;) {
    const std::size_t n = std::min(chunk, samples - done);
    const Tensor<T> terms = reverse_kl_terms(q, target, n, rng).value();
    for (std::size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(terms[i]);
      sum += v;
      sum_sq += v * v;
    }
    done += n;
  }
  const double count = static_cast<double>(samples);
  const double mean = sum / count;
  const double var = std::max(0.0, (sum_sq - count * mean * mean) / (count - 1));
  return {mean + log_z, std::sqrt(var / count), samples};
}

template Var<float> reverse_kl_terms<float>(FlowModel<float>&, Energy2D, std::size_t, Rng&);
template Var<double> reverse_kl_terms<double>(FlowModel<double>&, Energy2D, std::size_t, Rng&);
template KlEstimate estimate_reverse_kl<float>(FlowModel<float>&, Energy2D, double, std::size_t, Rng&, std::size_t);
template KlEstimate estimate_reverse_kl<double>(FlowModel<double>&, Energy2D, double, std::size_t, Rng&, std::size_t);

}  // namespace fz
