// flows/logdet_breakdown.cpp — the encode walk with one recorded term per bijector, and the
// per-term means in bits/dim.
#include "flows/logdet_breakdown.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "flows/image_likelihood.hpp"

namespace fz {

namespace {

Shape event_of(const Shape& batch_shape) { return Shape(batch_shape.begin() + 1, batch_shape.end()); }

// "Chain(ActNorm,InvConv1x1LU,Coupling(SigmoidAffine))" for a chain reported as one term.
template <typename T>
std::string describe(const Bijector<T>& b) {
  const auto* chain = dynamic_cast<const Chain<T>*>(&b);
  if (!chain) return b.type_name();
  std::string s = "Chain(";
  for (std::size_t i = 0; i < chain->size(); ++i) s += (i ? "," : "") + describe(*(*chain)[i]);
  return s + ")";
}

template <typename T>
class Walker {
 public:
  Walker(std::size_t max_depth, std::vector<LogdetTerm<T>>& terms) : max_depth_(max_depth), terms_(terms) {}

  // Chain::forward, step for step (the same additions in the same order, so the sums match
  // encode's bit for bit), recording each layer. `depth` is the chain's nesting below a
  // scale's (or the preprocessing) chain, which is depth 0.
  Transformed<T> chain(const Chain<T>& c, const Var<T>& x, const std::string& prefix, std::size_t scale,
                       std::size_t depth) {
    Var<T> h = x;
    Var<T> logdet = zero_logdet<T>(x.shape().at(0));
    for (std::size_t i = 0; i < c.size(); ++i) {
      const std::shared_ptr<Bijector<T>>& layer = c[i];
      const std::string name = prefix + "." + std::to_string(i);
      const auto* sub = dynamic_cast<const Chain<T>*>(layer.get());
      Transformed<T> step;
      if (sub && (max_depth_ == 0 || depth + 1 < max_depth_)) {
        step = chain(*sub, h, name, scale, depth + 1);
      } else {
        step = layer->forward(h);
        LogdetTerm<T> term;
        term.kind = LogdetTermKind::Bijector;
        term.name = name;
        term.type = describe(*layer);
        term.scale = scale;
        term.shape_out = event_of(step.value.shape());
        term.per_sample = step.logdet.value().clone();
        term.bijector = layer;
        terms_.push_back(std::move(term));
      }
      h = step.value;
      logdet = logdet + step.logdet;
    }
    return {h, logdet};
  }

 private:
  std::size_t max_depth_;
  std::vector<LogdetTerm<T>>& terms_;
};

}  // namespace

template <typename T>
LogdetBreakdown<T> logdet_breakdown(FlowModel<T>& model, const Var<T>& x, std::size_t max_depth) {
  NoGradGuard no_grad;
  // The same input check as encode, with the same message.
  const Shape& event = model.event_shape();
  if (x.dim() != event.size() + 1 || event_of(x.shape()) != event)
    throw std::invalid_argument("logdet_breakdown: expected a batch of shape (B, " + shape_str(event).substr(1) +
                                ", got " + shape_str(x.shape()));
  LogdetBreakdown<T> out;
  Walker<T> walk(max_depth, out.terms);
  // Mirrors FlowModel::encode.
  Transformed<T> pre = walk.chain(model.preprocess(), x, "preprocess", 0, 0);
  Var<T> h = pre.value;
  Var<T> logdet = pre.logdet;
  Var<T> latent_lp;
  const auto& scales = model.scales();
  for (std::size_t s = 0; s < scales.size(); ++s) {
    Transformed<T> step = walk.chain(*scales[s].flow, h, "scale" + std::to_string(s), s, 0);
    h = step.value;
    logdet = logdet + step.logdet;
    if (scales[s].split) {
      SplitOutput<T> split = scales[s].split->forward(h);
      LogdetTerm<T> term;
      term.kind = LogdetTermKind::SplitPrior;
      term.name = "split" + std::to_string(s);
      term.type = scales[s].split->type_name();
      term.scale = s;
      term.shape_out = event_of(split.z.shape());
      term.per_sample = split.log_prob.value().clone();
      term.split = scales[s].split;
      out.terms.push_back(std::move(term));
      out.latents.push_back(split.z.value());
      latent_lp = latent_lp.defined() ? latent_lp + split.log_prob : split.log_prob;
      h = split.kept;
    }
  }
  out.latents.push_back(h.value());
  Var<T> top = model.base().log_prob(h);
  LogdetTerm<T> term;
  term.kind = LogdetTermKind::Base;
  term.name = "top";
  term.type = model.base().type_name();
  term.scale = scales.size() - 1;
  term.shape_out = event_of(h.shape());
  term.per_sample = top.value().clone();
  out.terms.push_back(std::move(term));
  latent_lp = latent_lp.defined() ? latent_lp + top : top;
  out.log_prob = (logdet + latent_lp).value();  // Encoding::log_prob's order
  return out;
}

LogdetSummary::LogdetSummary(std::size_t dims, int bits) : dims_(dims), bits_(bits) {
  if (dims == 0) throw std::invalid_argument("LogdetSummary: dims must be positive");
  if (bits < 1 || bits > 16) throw std::invalid_argument("LogdetSummary: bits must be in 1..16");
}

template <typename T>
void LogdetSummary::add(const LogdetBreakdown<T>& b) {
  if (count_ > 0 && b.terms.size() != acc_.size())
    throw std::invalid_argument("LogdetSummary::add: " + std::to_string(b.terms.size()) + " terms, expected " +
                                std::to_string(acc_.size()) + " (a different model or depth?)");
  if (acc_.empty())
    for (const LogdetTerm<T>& t : b.terms) acc_.push_back({t.kind, t.name, t.type, t.scale, t.shape_out, 0.0});
  for (std::size_t k = 0; k < b.terms.size(); ++k) {
    if (b.terms[k].name != acc_[k].name)
      throw std::invalid_argument("LogdetSummary::add: term '" + b.terms[k].name + "' where '" + acc_[k].name +
                                  "' was expected");
    const Tensor<T>& v = b.terms[k].per_sample;
    for (std::size_t i = 0; i < v.numel(); ++i) acc_[k].sum += static_cast<double>(v[i]);
  }
  // The same per-sample conversion Trainer::evaluate_images uses.
  for (std::size_t i = 0; i < b.log_prob.numel(); ++i) {
    total_bpd_sum_ += bits_per_dim(static_cast<double>(b.log_prob[i]), dims_, bits_);
    log_prob_sum_ += static_cast<double>(b.log_prob[i]);
  }
  count_ += b.log_prob.numel();
}

std::vector<LogdetSummary::Row> LogdetSummary::rows() const {
  const double n = static_cast<double>(count_ ? count_ : 1);
  const double per_bit = static_cast<double>(dims_) * std::log(2.0);
  std::vector<Row> out;
  for (const Acc& a : acc_) {
    const double mean = a.sum / n;
    out.push_back({a.kind, a.name, a.type, a.scale, a.shape_out, mean, 0.0 - mean / per_bit});  // no -0
  }
  return out;
}

double LogdetSummary::constant_nats() const {
  return static_cast<double>(dims_) * bits_ * std::log(2.0);
}

double LogdetSummary::total_bpd() const {
  return count_ ? total_bpd_sum_ / static_cast<double>(count_) : 0.0;
}

double LogdetSummary::mean_log_prob() const {
  return count_ ? log_prob_sum_ / static_cast<double>(count_) : 0.0;
}

double LogdetSummary::sum_of_terms_bpd() const {
  double s = constant_bpd();
  for (const Row& r : rows()) s += r.bpd;
  return s;
}

template struct LogdetTerm<float>;
template struct LogdetTerm<double>;
template struct LogdetBreakdown<float>;
template struct LogdetBreakdown<double>;
template LogdetBreakdown<float> logdet_breakdown<float>(FlowModel<float>&, const Var<float>&, std::size_t);
template LogdetBreakdown<double> logdet_breakdown<double>(FlowModel<double>&, const Var<double>&, std::size_t);
template void LogdetSummary::add<float>(const LogdetBreakdown<float>&);
template void LogdetSummary::add<double>(const LogdetBreakdown<double>&);

}  // namespace fz
