// flows/logdet_breakdown.cpp — one recorded term per bijector, observed on the real encode, and
// the per-term means in bits/dim.
#include "flows/logdet_breakdown.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "flows/encode_observer.hpp"
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

// Records a term per layer from the real encode (flows/encode_observer.hpp), so the breakdown
// is what log_prob computes, not a re-implementation of it. A layer at depth d (the number of
// opened chains between it and its stage's chain) is reported when its enclosing chains were
// opened (max_depth == 0 or d < max_depth) and it is not itself a chain that gets opened
// (max_depth == 0 or d + 1 < max_depth). Chains run inside a layer that is not a Chain (a
// bijector's private sub-chain) are not the model's layers and are ignored.
template <typename T>
class BreakdownObserver : public EncodeObserver<T> {
 public:
  BreakdownObserver(std::size_t max_depth, std::size_t n_scales, LogdetBreakdown<T>& out)
      : max_depth_(max_depth), n_scales_(n_scales), out_(out) {}

  void enter_stage(const std::string& name, std::size_t scale) override {
    stage_ = name;
    scale_ = scale;
    in_stage_ = true;
    stack_.clear();
  }
  void leave_stage() override { in_stage_ = false; }

  void enter_layer(std::size_t index, const std::shared_ptr<Bijector<T>>& layer) override {
    if (!in_stage_) return;
    Frame f;
    f.name = (stack_.empty() ? stage_ : stack_.back().name) + "." + std::to_string(index);
    f.depth = stack_.size();
    f.is_chain = dynamic_cast<const Chain<T>*>(layer.get()) != nullptr;
    f.visible = stack_.empty() || (stack_.back().visible && stack_.back().opened);
    f.opened = f.is_chain && (max_depth_ == 0 || f.depth + 1 < max_depth_);
    stack_.push_back(std::move(f));
  }

  void leave_layer(std::size_t, const std::shared_ptr<Bijector<T>>& layer, const Transformed<T>& step) override {
    if (!in_stage_ || stack_.empty()) return;
    const Frame f = stack_.back();
    stack_.pop_back();
    if (!f.visible || f.opened) return;
    LogdetTerm<T> term;
    term.kind = LogdetTermKind::Bijector;
    term.name = f.name;
    term.type = describe(*layer);
    term.scale = scale_;
    term.shape_out = event_of(step.value.shape());
    term.per_sample = step.logdet.value().clone();
    term.bijector = layer;
    out_.terms.push_back(std::move(term));
  }

  void on_split(std::size_t scale, const std::shared_ptr<Split<T>>& split, const SplitOutput<T>& o) override {
    LogdetTerm<T> term;
    term.kind = LogdetTermKind::SplitPrior;
    term.name = "split" + std::to_string(scale);
    term.type = split->type_name();
    term.scale = scale;
    term.shape_out = event_of(o.z.shape());
    term.per_sample = o.log_prob.value().clone();
    term.split = split;
    out_.terms.push_back(std::move(term));
  }

  void on_top(const Distribution<T>& base, const Var<T>& latent, const Var<T>& log_prob) override {
    LogdetTerm<T> term;
    term.kind = LogdetTermKind::Base;
    term.name = "top";
    term.type = base.type_name();
    term.scale = n_scales_ - 1;
    term.shape_out = event_of(latent.shape());
    term.per_sample = log_prob.value().clone();
    out_.terms.push_back(std::move(term));
  }

 private:
  struct Frame {
    std::string name;
    std::size_t depth = 0;
    bool is_chain = false, visible = true, opened = false;
  };
  std::size_t max_depth_, n_scales_;
  LogdetBreakdown<T>& out_;
  std::string stage_;
  std::size_t scale_ = 0;
  bool in_stage_ = false;
  std::vector<Frame> stack_;
};

}  // namespace

template <typename T>
LogdetBreakdown<T> logdet_breakdown(FlowModel<T>& model, const Var<T>& x, std::size_t max_depth) {
  NoGradGuard no_grad;
  // The same input check as encode, with this function's name.
  const Shape& event = model.event_shape();
  if (x.dim() != event.size() + 1 || event_of(x.shape()) != event)
    throw std::invalid_argument("logdet_breakdown: expected a batch of shape (B, " + shape_str(event).substr(1) +
                                ", got " + shape_str(x.shape()));
  LogdetBreakdown<T> out;
  BreakdownObserver<T> observer(max_depth, model.scales().size(), out);
  Encoding<T> enc;
  {
    const EncodeObserverScope<T> watching(&observer);
    enc = model.encode(x);
  }
  for (const Var<T>& z : enc.latents) out.latents.push_back(z.value());
  out.log_prob = enc.log_prob().value();
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
