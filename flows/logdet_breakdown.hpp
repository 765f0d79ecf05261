// flows/logdet_breakdown.hpp — where a flow's likelihood comes from, term by term.
//
// log p(x) is a sum: every bijector's log|det J| plus, per scale, the log-density of what that
// scale factors out (the split priors) and of the top latent (the base distribution). This file
// runs FlowModel::encode itself with an observer installed (flows/encode_observer.hpp) and
// records each bijector's per-sample log-det as encode computes it, so one can see which
// layers carry the likelihood and the terms are exactly those log_prob sums. In bits/dim (8-bit images, D dimensions) the terms add up:
//
//   bpd = sum over terms of  -mean(term) / (D ln 2)   +   bits      (the dequantization constant,
//                                                                    D ln 2^bits nats per image)
//
// which is image_likelihood.hpp's bits_per_dim of the same log p(x).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "flow_model.hpp"

namespace fz {

// What a term is: a bijector's log|det J|, a split's log p(z_i | kept_i), or the base
// distribution's log p(z_top); Dequantizer is -log q(u | x) of variational dequantization
// (flows/variational_dequantizer.hpp), which the caller adds (cli/study_flow_commands.cpp).
enum class LogdetTermKind { Bijector, SplitPrior, Base, Dequantizer };

// One additive term of log p(x).
template <typename T>
struct LogdetTerm {
  LogdetTermKind kind = LogdetTermKind::Bijector;
  std::string name;     // where it sits: "preprocess.0", "scale1.3.2", "split0", "top"
  std::string type;     // the layer's type_name(); nested chains kept whole list their layers
  std::size_t scale = 0;  // 0-based scale index (preprocessing counts as scale 0)
  Shape shape_out;      // one sample's output shape (Bijector) or latent shape (priors)
  Tensor<T> per_sample;  // (B,): the bijector's log|det J| or the latent's log-density, nats
  // The module that produced the term, so callers (tests) can recompute it: the bijector for
  // Bijector terms, the split for SplitPrior terms, null for Base.
  std::shared_ptr<Bijector<T>> bijector;
  std::shared_ptr<Split<T>> split;
};

template <typename T>
struct LogdetBreakdown {
  std::vector<LogdetTerm<T>> terms;  // in the order encode applies them; priors after their scale
  Tensor<T> log_prob;                // (B,): log p(x), summed in the same order encode sums it
  std::vector<Tensor<T>> latents;    // as Encoding::latents: each split's z, then the top latent
};

// Runs encode on the continuous batch x (B, event...) and records every
// bijector. max_depth = 0 opens every nested Chain down to its leaves; max_depth = d > 0 reports
// a Chain nested more than d levels below a scale's chain as one term (e.g. 1: one row per
// Glow step). Records no gradient (runs under NoGradGuard); train/eval mode as the model is.
template <typename T>
LogdetBreakdown<T> logdet_breakdown(FlowModel<T>& model, const Var<T>& x, std::size_t max_depth = 0);

// Accumulates breakdowns over batches into per-term means and their bits/dim contributions.
class LogdetSummary {
 public:
  struct Row {
    LogdetTermKind kind;
    std::string name, type;
    std::size_t scale = 0;
    Shape shape_out;
    double mean_nats = 0;  // mean over every sample added so far
    double bpd = 0;        // -mean_nats / (D ln 2): this term's share of the total bits/dim
  };

  // dims = D of one sample; bits = image bit depth (the constant term is `bits` bits/dim).
  LogdetSummary(std::size_t dims, int bits = 8);

  // Adds one batch; every batch must come from the same model and max_depth.
  template <typename T>
  void add(const LogdetBreakdown<T>& breakdown);

  std::vector<Row> rows() const;
  std::size_t count() const { return count_; }
  std::size_t dims() const { return dims_; }
  // D ln 2^bits nats per image, i.e. exactly `bits` bits/dim: the dequantization bin volume.
  double constant_nats() const;
  double constant_bpd() const { return static_cast<double>(bits_); }
  // Mean over samples of bits_per_dim(log p(x_i)) — what Trainer::evaluate_images reports for
  // the same images and dequantization draw.
  double total_bpd() const;
  // Sum of every row's bpd plus the constant: total_bpd() up to rounding.
  double sum_of_terms_bpd() const;
  // Mean over samples of log p(x_i) in nats (continuous data: minus the NLL eval reports).
  double mean_log_prob() const;

 private:
  struct Acc {
    LogdetTermKind kind;
    std::string name, type;
    std::size_t scale;
    Shape shape_out;
    double sum = 0;
  };
  std::size_t dims_;
  int bits_;
  std::vector<Acc> acc_;
  std::size_t count_ = 0;
  double total_bpd_sum_ = 0;
  double log_prob_sum_ = 0;
};

extern template struct LogdetTerm<float>;
extern template struct LogdetTerm<double>;
extern template struct LogdetBreakdown<float>;
extern template struct LogdetBreakdown<double>;
extern template LogdetBreakdown<float> logdet_breakdown<float>(FlowModel<float>&, const Var<float>&, std::size_t);
extern template LogdetBreakdown<double> logdet_breakdown<double>(FlowModel<double>&, const Var<double>&, std::size_t);
extern template void LogdetSummary::add<float>(const LogdetBreakdown<float>&);
extern template void LogdetSummary::add<double>(const LogdetBreakdown<double>&);

}  // namespace fz
