// flows/importance_weighted.hpp — the importance-weighted estimate of an image's discrete
// log-likelihood (Burda et al. 2016's bound, applied to dequantization as in Flow++ section 4):
//
//   log P(x) ~= log (1/S) sum_s exp(w_s),   w_s = log p(y_s) - log q(u_s | x) - D ln 2^bits,
//   y_s = (x + u_s) / 2^bits, u_s ~ q(u | x) (the variational dequantizer; uniform
//   dequantization is q = U[0, 1)^D, log q = 0),
//
// computed with a log-sum-exp. Its expectation is a lower bound on log P(x) that tightens as S
// grows (S = 1 is the plain variational bound, which Trainer::evaluate_images reports) and
// tends to log P(x). The draws are Trainer::evaluate_images' (generator (seed, stream 11),
// batches of `batch_size`): within a batch, draw s = 0 .. S-1 one after the other, so with S = 1
// every draw — and every image's number — is evaluate_images' exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "trainer.hpp"

namespace fz {

struct ImportanceWeightedResult {
  std::vector<double> bpd;      // per image: -log P(x) estimate / (D ln 2)
  double mean_bpd = 0;          // their mean
  double standard_error = 0;    // sd of the per-image values / sqrt(n) (0 for one image)
  std::size_t samples = 1;      // S
  bool interrupted = false;     // `stop` returned true: bpd holds the images done so far
};

// Per-image estimates over `pixels` with `samples` draws each (eval mode, no gradients, the
// averaged parameters when the trainer keeps Polyak averages, as evaluate_images). Single
// process only. Throws std::invalid_argument for samples or batch_size 0.
template <typename T>
ImportanceWeightedResult importance_weighted_bpd(Trainer<T>& trainer, const TensorU8& pixels, std::size_t samples,
                                                 std::size_t batch_size, std::uint64_t seed = 0,
                                                 const std::function<bool()>& stop = {});

// log (1/S) sum_s exp(w_s) of one image's S log-weights, by log-sum-exp (max subtracted).
double log_mean_exp(const std::vector<double>& log_weights);

}  // namespace fz
