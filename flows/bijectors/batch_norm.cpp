// flows/bijectors/batch_norm.cpp — the batch-norm bijector (train: batch statistics with
// running-average updates; eval and inverse: running statistics).
#include "flows/bijectors/batch_norm.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"

namespace fz {

template <typename T>
BatchNormBijector<T>::BatchNormBijector(std::size_t channels, T momentum, T eps)
    : channels_(channels), momentum_(momentum), eps_(eps) {
  if (channels == 0) throw std::invalid_argument("BatchNormBijector: zero channels");
  if (!(momentum >= T(0) && momentum <= T(1)) || !(eps > T(0)))
    throw std::invalid_argument("BatchNormBijector: momentum must be in [0, 1] and eps > 0");
  log_gamma_ = this->register_parameter("log_gamma", Tensor<T>({channels}));
  beta_ = this->register_parameter("beta", Tensor<T>({channels}));
  running_mean_ = this->register_buffer("running_mean", Tensor<T>({channels}));
  running_var_ = this->register_buffer("running_var", Tensor<T>({channels}, T(1)));
}

template <typename T>
void BatchNormBijector<T>::check(const Shape& s, const char* who) const {
  if (s.size() < 2 || s[1] != channels_)
    throw std::invalid_argument(std::string(who) + ": built for " + std::to_string(channels_) +
                                " channels on axis 1, got " + shape_str(s));
}

namespace {
// (1, C, 1, ...) matching an input of `dim` axes.
Shape channel_shape(std::size_t dim, std::size_t c) {
  Shape s(dim, 1);
  s[1] = c;
  return s;
}
}  // namespace

template <typename T>
Transformed<T> BatchNormBijector<T>::forward(const Var<T>& x) {
  check(x.shape(), "BatchNormBijector::forward");
  const Shape& s = x.shape();
  const Shape cs = channel_shape(s.size(), channels_);
  const std::size_t spatial = shape_numel(s) / (s[0] * s[1]);
  Var<T> lg = reshape(log_gamma_, cs), beta = reshape(beta_, cs);
  Var<T> mean, var;
  if (this->is_training()) {
    std::vector<int> axes{0};
    for (std::size_t a = 2; a < s.size(); ++a) axes.push_back(static_cast<int>(a));
    mean = sum(x, axes, true) * (T(1) / T(s[0] * spatial));
    var = sum(square(x - mean), axes, true) * (T(1) / T(s[0] * spatial));
    // Running averages (no gradient; in place so the registered buffers see the change).
    const T n = T(s[0] * spatial);
    const T unbias = n > T(1) ? n / (n - T(1)) : T(1);
    for (std::size_t c = 0; c < channels_; ++c) {
      running_mean_[c] = (T(1) - momentum_) * running_mean_[c] + momentum_ * mean.value()[c];
      running_var_[c] = (T(1) - momentum_) * running_var_[c] + momentum_ * unbias * var.value()[c];
    }
  } else {
    mean = Var<T>(running_mean_.clone().reshape(cs));
    var = Var<T>(running_var_.clone().reshape(cs));
  }
  // log of the per-channel factor exp(log_gamma) / sqrt(var + eps)
  Var<T> log_factor = lg - T(0.5) * log(var + eps_);
  Var<T> y = (x - mean) * exp(log_factor) + beta;
  return {y, zero_logdet<T>(s[0]) + sum(log_factor) * T(spatial)};
}

template <typename T>
Transformed<T> BatchNormBijector<T>::inverse(const Var<T>& y) {
  check(y.shape(), "BatchNormBijector::inverse");
  const Shape& s = y.shape();
  const Shape cs = channel_shape(s.size(), channels_);
  const std::size_t spatial = shape_numel(s) / (s[0] * s[1]);
  Var<T> mean(running_mean_.clone().reshape(cs)), var(running_var_.clone().reshape(cs));
  Var<T> log_factor = reshape(log_gamma_, cs) - T(0.5) * log(var + eps_);
  Var<T> x = (y - reshape(beta_, cs)) * exp(-log_factor) + mean;
  return {x, zero_logdet<T>(s[0]) - sum(log_factor) * T(spatial)};
}

template class BatchNormBijector<float>;
template class BatchNormBijector<double>;

}  // namespace fz
