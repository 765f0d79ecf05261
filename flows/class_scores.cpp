// flows/class_scores.cpp — Bayes-rule predictions and conditional / marginal bits per dim.
#include "flows/class_scores.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "flows/image_likelihood.hpp"

namespace fz {

std::vector<double> uniform_log_class_prior(std::size_t classes) {
  if (classes == 0) throw std::invalid_argument("uniform_log_class_prior: no classes");
  return std::vector<double>(classes, -std::log(static_cast<double>(classes)));
}

std::size_t bayes_prediction(const double* row, const std::vector<double>& log_prior) {
  std::size_t best = 0;
  for (std::size_t k = 1; k < log_prior.size(); ++k)
    if (row[k] + log_prior[k] > row[best] + log_prior[best]) best = k;  // strict: ties keep the lower k
  return best;
}

ClassScoreSummary summarize_class_scores(const std::vector<double>& scores, const std::vector<std::int32_t>& labels,
                                         const std::vector<double>& log_prior, std::size_t dims, int bits) {
  const std::size_t k = log_prior.size(), n = labels.size();
  if (k == 0 || scores.size() != n * k)
    throw std::invalid_argument("summarize_class_scores: " + std::to_string(scores.size()) + " scores for " +
                                std::to_string(n) + " images and " + std::to_string(k) + " classes");
  ClassScoreSummary out;
  if (n == 0) return out;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= k)
      throw std::invalid_argument("summarize_class_scores: label " + std::to_string(labels[i]) + " of image " +
                                  std::to_string(i) + " is not in [0, " + std::to_string(k) + ")");
    const double* row = scores.data() + i * k;
    const std::size_t predicted = bayes_prediction(row, log_prior);
    out.predictions.push_back(predicted);
    correct += predicted == static_cast<std::size_t>(labels[i]);
    out.conditional_bpd += bits_per_dim(row[labels[i]], dims, bits);
    // log sum_k exp(row_k + prior_k), shifted by the largest term.
    const double top = row[predicted] + log_prior[predicted];
    double sum = 0;
    for (std::size_t c = 0; c < k; ++c) sum += std::exp(row[c] + log_prior[c] - top);
    out.marginal_bpd += bits_per_dim(top + std::log(sum), dims, bits);
  }
  out.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  out.conditional_bpd /= static_cast<double>(n);
  out.marginal_bpd /= static_cast<double>(n);
  return out;
}

}  // namespace fz
