// flows/importance_weighted.cpp — S dequantization draws per image, combined by log-mean-exp.
#include "flows/importance_weighted.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "autograd/grad_mode.hpp"
#include "autograd/ops_elementwise.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/variational_dequantizer.hpp"
#include "tensor/layout.hpp"

namespace fz {

double log_mean_exp(const std::vector<double>& w) {
  if (w.empty()) throw std::invalid_argument("log_mean_exp: no weights");
  const double top = *std::max_element(w.begin(), w.end());
  if (!std::isfinite(top)) return top;  // +inf or NaN dominates; all -inf stays -inf
  double sum = 0;
  for (double v : w) sum += std::exp(v - top);
  return top + std::log(sum / static_cast<double>(w.size()));
}

template <typename T>
ImportanceWeightedResult importance_weighted_bpd(Trainer<T>& trainer, const TensorU8& pixels, std::size_t samples,
                                                 std::size_t batch_size, std::uint64_t seed,
                                                 const std::function<bool()>& stop) {
  if (samples == 0) throw std::invalid_argument("importance_weighted_bpd: needs at least one sample");
  if (batch_size == 0) throw std::invalid_argument("importance_weighted_bpd: batch size must be positive");
  FlowModel<T>& model = trainer.model();
  const int bits = trainer.options().bits;
  const std::size_t dims = model.dims();
  const double d = static_cast<double>(dims), bin_nats = d * bits * std::log(2.0);
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::unique_ptr<EmaScope<T>> averaged;
  if (trainer.ema()) averaged = std::make_unique<EmaScope<T>>(*trainer.ema());
  Rng eval_rng(seed, /*stream=*/11);  // Trainer::evaluate_images' generator
  ImportanceWeightedResult result;
  result.samples = samples;
  VariationalDequantizer<T>* q = model.dequantizer();
  const std::size_t n = pixels.shape().at(0);
  for (std::size_t b = 0; b < n && !result.interrupted; b += batch_size) {
    if (stop && stop()) {
      result.interrupted = true;
      break;
    }
    const TensorU8 batch = slice(pixels, 0, static_cast<long>(b), static_cast<long>(std::min(n, b + batch_size)));
    const std::size_t rows = batch.shape()[0];
    std::vector<std::vector<double>> weights(rows, std::vector<double>(samples));
    for (std::size_t s = 0; s < samples; ++s) {
      // log p(y_s) - log q(u_s | x) in T, as evaluate_images computes it (so S = 1 is its number).
      Tensor<T> bound;
      if (q) {
        const DequantizedBatch<T> dq = q->dequantize(batch, q->draw_noise(rows, eval_rng));
        bound = (model.log_prob(dq.y) - dq.log_q).value();
      } else {
        bound = model.log_prob(Var<T>(dequantize<T>(batch, eval_rng, bits))).value();
      }
      for (std::size_t i = 0; i < rows; ++i) weights[i][s] = static_cast<double>(bound[i]);  // log p(y) - log q, nats
    }
    for (std::size_t i = 0; i < rows; ++i) {
      // S = 1: bits_per_dim of the one draw, the very conversion evaluate_images makes. The
      // constant -D ln 2^bits of every w_s comes out of the log-mean-exp.
      const double bpd = samples == 1 ? bits_per_dim(weights[i][0], dims, bits)
                                      : -(log_mean_exp(weights[i]) - bin_nats) / (d * std::log(2.0));
      result.bpd.push_back(bpd);
    }
  }
  averaged.reset();
  model.train(was_training);
  double total = 0;
  for (double v : result.bpd) total += v;
  const std::size_t count = result.bpd.size();
  result.mean_bpd = count ? total / static_cast<double>(count) : std::nan("");
  if (count > 1) {
    double sq = 0;
    for (double v : result.bpd) sq += (v - result.mean_bpd) * (v - result.mean_bpd);
    result.standard_error = std::sqrt(sq / static_cast<double>(count - 1) / static_cast<double>(count));
  }
  return result;
}

template ImportanceWeightedResult importance_weighted_bpd<float>(Trainer<float>&, const TensorU8&, std::size_t,
                                                                 std::size_t, std::uint64_t,
                                                                 const std::function<bool()>&);
template ImportanceWeightedResult importance_weighted_bpd<double>(Trainer<double>&, const TensorU8&, std::size_t,
                                                                  std::size_t, std::uint64_t,
                                                                  const std::function<bool()>&);

}  // namespace fz
