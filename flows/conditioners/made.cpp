// flows/conditioners/made.cpp — MADE: degrees, masks and the masked forward pass.
#include "flows/conditioners/made.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/nn/linear.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_matmul.hpp"

namespace fz {

ParamLayout blocked_param_layout() {
  return [](std::size_t p, std::size_t j, std::size_t k) { return p * k + j; };
}

std::vector<std::size_t> natural_order(std::size_t d) {
  std::vector<std::size_t> order(d);
  for (std::size_t i = 0; i < d; ++i) order[i] = i;
  return order;
}

namespace {

void check_order(const std::vector<std::size_t>& order, std::size_t d, const char* who) {
  if (order.size() != d)
    throw std::invalid_argument(std::string(who) + ": the order has " + std::to_string(order.size()) +
                                " entries for " + std::to_string(d) + " features");
  std::vector<bool> seen(d, false);
  for (std::size_t i : order) {
    if (i >= d || seen[i])
      throw std::invalid_argument(std::string(who) + ": the order is not a permutation of 0.." +
                                  std::to_string(d - 1));
    seen[i] = true;
  }
}

// mask[o, i] = 1 when unit o may see unit i: degree(o) > degree(i) into the outputs (strict),
// degree(o) >= degree(i) into hidden units.
template <typename T>
Tensor<T> degree_mask(const std::vector<std::size_t>& out_degrees,
                      const std::vector<std::size_t>& in_degrees, bool strict) {
  Tensor<T> mask({out_degrees.size(), in_degrees.size()});
  for (std::size_t o = 0; o < out_degrees.size(); ++o)
    for (std::size_t i = 0; i < in_degrees.size(); ++i) {
      const bool connected = strict ? out_degrees[o] > in_degrees[i] : out_degrees[o] >= in_degrees[i];
      mask[o * in_degrees.size() + i] = connected ? T(1) : T(0);
    }
  return mask;
}

}  // namespace

template <typename T>
MADE<T>::MADE(const MadeConfig& config, const std::vector<std::size_t>& order, Rng& rng,
              ParamLayout layout)
    : config_(config), layout_(std::move(layout)) {
  const std::size_t d = config.features, h = config.hidden, p = config.params_per_dim;
  if (d == 0 || p == 0 || ((config.n_hidden > 0 || config.residual) && h == 0))
    throw std::invalid_argument("MADE: sizes must be positive (features " + std::to_string(d) +
                                ", hidden " + std::to_string(h) + ", parameters per dimension " +
                                std::to_string(p) + ")");
  check_order(order, d, "MADE");
  if (!layout_) layout_ = blocked_param_layout();
  // The layout must place the P * D outputs on distinct columns.
  std::vector<bool> used(p * d, false);
  for (std::size_t q = 0; q < p; ++q)
    for (std::size_t j = 0; j < d; ++j) {
      const std::size_t c = layout_(q, j, d);
      if (c >= p * d || used[c])
        throw std::invalid_argument("MADE: the parameter layout maps (p " + std::to_string(q) + ", dimension " +
                                    std::to_string(j) + ") to column " + std::to_string(c) +
                                    ", which is out of range or taken");
      used[c] = true;
    }

  Tensor<T> order_values({d});
  for (std::size_t i = 0; i < d; ++i) order_values[i] = static_cast<T>(order[i]);
  order_buffer_ = this->register_buffer("order", std::move(order_values));

  // Map sizes (in, out) in application order.
  std::vector<std::pair<std::size_t, std::size_t>> maps;
  if (config.residual) {
    maps.push_back({d, h});
    for (std::size_t b = 0; b < config.n_hidden; ++b) {
      maps.push_back({h, h});
      maps.push_back({h, h});
    }
    maps.push_back({h, p * d});
  } else {
    std::size_t in = d;
    for (std::size_t l = 0; l < config.n_hidden; ++l) {
      maps.push_back({in, h});
      in = h;
    }
    maps.push_back({in, p * d});
  }
  for (std::size_t l = 0; l < maps.size(); ++l) {
    const auto [fi, fo] = maps[l];
    const bool zero = config.zero_init_last && l + 1 == maps.size();
    // Each map is a Linear layer (its initialisation); MADE applies it with a masked weight,
    // so it keeps the parameters flat under the names checkpoints use, not the layer.
    const Linear<T> map(fi, fo, rng, /*bias=*/true, zero ? LinearInit::Zeros : LinearInit::Default);
    weights_.push_back(this->register_parameter("weight" + std::to_string(l), map.weight()));
    biases_.push_back(this->register_parameter("bias" + std::to_string(l), map.bias()));
  }
  rebuild_masks_if_stale();
}

template <typename T>
std::vector<std::size_t> MADE<T>::order() const {
  std::vector<std::size_t> order(order_buffer_.numel());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<std::size_t>(std::lround(static_cast<double>(order_buffer_[i])));
  check_order(order, config_.features, "MADE (restored order)");
  return order;
}

template <typename T>
std::vector<std::size_t> MADE<T>::input_degrees() const {
  const std::vector<std::size_t> ord = order();
  std::vector<std::size_t> degrees(ord.size());
  for (std::size_t k = 0; k < ord.size(); ++k) degrees[ord[k]] = k + 1;
  return degrees;
}

template <typename T>
std::vector<std::size_t> MADE<T>::hidden_degrees() const {
  const std::size_t d = config_.features;
  const std::size_t cycle = d > 1 ? d - 1 : 1;
  std::vector<std::size_t> degrees(config_.hidden);
  for (std::size_t u = 0; u < degrees.size(); ++u) degrees[u] = u % cycle + 1;
  return degrees;
}

template <typename T>
std::vector<std::size_t> MADE<T>::output_degrees() const {
  const std::size_t d = config_.features, p = config_.params_per_dim;
  const std::vector<std::size_t> in = input_degrees();
  std::vector<std::size_t> degrees(p * d);
  for (std::size_t q = 0; q < p; ++q)
    for (std::size_t j = 0; j < d; ++j) degrees[layout_(q, j, d)] = in[j];
  return degrees;
}

template <typename T>
void MADE<T>::rebuild_masks_if_stale() {
  std::vector<std::size_t> current = order();
  if (!masks_.empty() && current == mask_order_) return;
  const std::vector<std::size_t> in = input_degrees(), hid = hidden_degrees(), out = output_degrees();
  masks_.clear();
  for (std::size_t l = 0; l < weights_.size(); ++l) {
    const bool first = l == 0, last = l + 1 == weights_.size();
    masks_.push_back(degree_mask<T>(last ? out : hid, first ? in : hid, last));
  }
  mask_order_ = std::move(current);
}

template <typename T>
std::vector<Tensor<T>> MADE<T>::masks() {
  rebuild_masks_if_stale();
  return masks_;
}

template <typename T>
std::vector<Var<T>> MADE<T>::masked_weights() {
  rebuild_masks_if_stale();
  std::vector<Var<T>> out;
  for (std::size_t l = 0; l < weights_.size(); ++l) out.push_back(mul(weights_[l], Var<T>(masks_[l], false)));
  return out;
}

template <typename T>
Var<T> MADE<T>::forward(const Var<T>& x) {
  return forward_with(x, masked_weights());
}

template <typename T>
Var<T> MADE<T>::forward_with(const Var<T>& x, const std::vector<Var<T>>& w) {
  if (x.dim() != 2 || x.shape()[1] != config_.features)
    throw std::invalid_argument("MADE: expected input (B, " + std::to_string(config_.features) + "), got " +
                                shape_str(x.shape()));
  if (w.size() != weights_.size())
    throw std::invalid_argument("MADE: " + std::to_string(w.size()) + " masked weights for " +
                                std::to_string(weights_.size()) + " maps");
  const std::size_t last = weights_.size() - 1;
  auto map = [&](std::size_t l, const Var<T>& in) { return linear(in, w[l], biases_[l]); };
  if (!config_.residual) {
    Var<T> h = x;
    // Hidden maps as the fused linear + ReLU op (one tape node each).
    for (std::size_t l = 0; l < last; ++l) h = linear_relu(h, w[l], biases_[l]);
    return map(last, h);
  }
  Var<T> h = map(0, x);
  for (std::size_t b = 0; b < config_.n_hidden; ++b) {
    const std::size_t l1 = 1 + 2 * b, l2 = l1 + 1;
    const Var<T> inner = linear_relu(relu(h), w[l1], biases_[l1]);
    h = h + map(l2, inner);
  }
  return map(last, relu(h));
}

template class MADE<float>;
template class MADE<double>;

}  // namespace fz
