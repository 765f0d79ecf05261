// flows/class_scores.hpp — a class-conditional flow as a classifier (Bayes' rule) and its code
// lengths, from the table of log p(x_i | k) that FlowModel::class_log_probs gives:
//
//   prediction_i   = argmax_k  log p(x_i | k) + log p(k)          (ties: the lowest k)
//   conditional    = -log p(x_i | y_i)                            (the label known)
//   marginal       = -log sum_k p(x_i | k) p(k)                    (a log-sum-exp)
//
// both code lengths in bits/dim of 2^bits-level images (flows/image_likelihood.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fz {

struct ClassScoreSummary {
  double accuracy = 0;         // fraction of images whose prediction is their label
  double conditional_bpd = 0;  // mean over images
  double marginal_bpd = 0;     // mean over images
  std::vector<std::size_t> predictions;
};

// log p(k) = -log K for every class.
std::vector<double> uniform_log_class_prior(std::size_t classes);

// The Bayes prediction for one image: `row` holds log p(x | k) for the classes of log_prior.
std::size_t bayes_prediction(const double* row, const std::vector<double>& log_prior);

// scores: N x K row-major log p(x_i | k) in nats (K = log_prior.size()); labels: N, each in
// [0, K); dims and bits as for bits/dim. Throws std::invalid_argument on mismatched sizes or a
// label out of range.
ClassScoreSummary summarize_class_scores(const std::vector<double>& scores, const std::vector<std::int32_t>& labels,
                                         const std::vector<double>& log_prior, std::size_t dims, int bits = 8);

}  // namespace fz
