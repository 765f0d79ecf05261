// flows/variational_dequantizer.cpp — q(u | x): noise -> context-conditioned checkerboard
// couplings -> sigmoid, with log q by the change of variables.
#include "flows/variational_dequantizer.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "flows/transformers/affine.hpp"

namespace fz {

// A coupling's conditioner that also sees a context feature map: forward(c) =
// zero_conv(relu(conv(concat(c, context)))). The context (the dequantizer's f(x)) is bound for
// one dequantize() call and released after it, so no tape node outlives the step.
template <typename T>
class ContextConditioner : public Layer<T> {
 public:
  ContextConditioner(std::size_t in_channels, std::size_t context_channels, std::size_t hidden,
                     std::size_t out_channels, Rng& rng) {
    Conv2dOptions first;
    first.kernel_size = 3;
    first.padding = 1;
    Conv2dOptions last = first;
    last.init = Conv2dInit::Zeros;  // the coupling starts as the identity
    conv_ = this->register_module("conv", std::make_shared<Conv2d<T>>(in_channels + context_channels, hidden, rng, first));
    out_ = this->register_module("out", std::make_shared<Conv2d<T>>(hidden, out_channels, rng, last));
  }
  std::string type_name() const override { return "ContextConditioner"; }

  void bind(const Var<T>& context) { context_ = context; }
  void release() { context_ = Var<T>(); }

  Var<T> forward(const Var<T>& x) override {
    if (!context_.defined()) throw std::logic_error("ContextConditioner: no context bound");
    return out_->forward(relu(conv_->forward(concat({x, context_}, 1))));
  }

 private:
  std::shared_ptr<Conv2d<T>> conv_, out_;
  Var<T> context_;
};

template <typename T>
VariationalDequantizer<T>::VariationalDequantizer(Shape image_shape, std::size_t hidden, std::size_t couplings,
                                                  int bits, Rng& rng)
    : image_shape_(std::move(image_shape)), hidden_(hidden), bits_(bits) {
  if (image_shape_.size() != 3 || shape_numel(image_shape_) == 0)
    throw std::invalid_argument("VariationalDequantizer: needs an image shape (C, H, W), got " + shape_str(image_shape_));
  if (hidden == 0 || couplings == 0)
    throw std::invalid_argument("VariationalDequantizer: hidden and couplings must be positive");
  if (bits < 1 || bits > 8) throw std::invalid_argument("VariationalDequantizer: bits must be 1 to 8");
  const std::size_t c = image_shape_[0];
  Conv2dOptions conv;
  conv.kernel_size = 3;
  conv.padding = 1;
  conv1_ = this->register_module("features1", std::make_shared<Conv2d<T>>(c, hidden, rng, conv));
  conv2_ = this->register_module("features2", std::make_shared<Conv2d<T>>(hidden, hidden, rng, conv));
  for (std::size_t i = 0; i < couplings; ++i) {
    const Partition partition{PartitionKind::Checkerboard, i % 2 == 1};
    auto net = std::make_shared<ContextConditioner<T>>(partition.conditioner_in_channels(c), hidden, hidden, 2 * c, rng);
    conditioners_.push_back(net);
    couplings_.push_back(this->register_module(
        "coupling" + std::to_string(i),
        std::make_shared<Coupling<T>>(c, partition, net, std::make_shared<AffineTransformer<T>>(c, true))));
  }
}

template <typename T>
Tensor<T> VariationalDequantizer<T>::draw_noise(std::size_t batch, Rng& rng) const {
  Shape shape{batch};
  shape.insert(shape.end(), image_shape_.begin(), image_shape_.end());
  return rng.normal<T>(shape);
}

template <typename T>
std::pair<Var<T>, Var<T>> VariationalDequantizer<T>::transform(const TensorU8& pixels, const Tensor<T>& eps) {
  if (pixels.dim() != 4 || Shape(pixels.shape().begin() + 1, pixels.shape().end()) != image_shape_ ||
      eps.shape() != pixels.shape())
    throw std::invalid_argument("VariationalDequantizer: expected pixels and noise of shape (B, " +
                                shape_str(image_shape_).substr(1) + ", got " + shape_str(pixels.shape()) + " and " +
                                shape_str(eps.shape()));
  const std::size_t batch = pixels.shape()[0], dims = shape_numel(image_shape_);
  // The conditioners' context: features of the pixels scaled to [-1/2, 1/2].
  const double top = std::ldexp(1.0, bits_) - 1.0;
  Tensor<T> scaled = Tensor<T>::empty(pixels.shape());
  for (std::size_t i = 0; i < scaled.numel(); ++i) scaled[i] = static_cast<T>(pixels[i] / top - 0.5);
  const Var<T> features = relu(conv2_->forward(relu(conv1_->forward(Var<T>(scaled)))));
  // log N(eps; 0, I) per image: a constant of the draw.
  Tensor<T> log_normal = Tensor<T>::empty({batch});
  for (std::size_t b = 0; b < batch; ++b) {
    double sq = 0;
    for (std::size_t i = 0; i < dims; ++i) sq += static_cast<double>(eps[b * dims + i]) * eps[b * dims + i];
    log_normal[b] = static_cast<T>(-0.5 * sq - 0.5 * static_cast<double>(dims) * std::log(2.0 * M_PI));
  }
  for (auto& net : conditioners_) net->bind(features);
  Var<T> h(eps);
  Var<T> logdet;
  try {
    for (auto& coupling : couplings_) {
      Transformed<T> step = coupling->forward(h);
      h = step.value;
      logdet = logdet.defined() ? logdet + step.logdet : step.logdet;
    }
  } catch (...) {
    for (auto& net : conditioners_) net->release();
    throw;
  }
  for (auto& net : conditioners_) net->release();
  // u = delta + (1 - 2 delta) sigmoid(a h); log du/dh = log a + log sig(a h) + log sig(-a h) + log(1 - 2 delta).
  const T a = static_cast<T>(kSigmoidGain), delta = static_cast<T>(kMargin);
  const Var<T> ah = h * a;
  const Var<T> u = sigmoid(ah) * (T(1) - T(2) * delta) + delta;
  const double per_element = std::log(kSigmoidGain) + std::log(1.0 - 2.0 * kMargin);
  const Var<T> sigmoid_logdet =
      sum_per_sample(logsigmoid(ah) + logsigmoid(-ah)) + static_cast<T>(per_element * static_cast<double>(dims));
  const Var<T> log_q = Var<T>(log_normal) - logdet - sigmoid_logdet;
  return {u, log_q};
}

template <typename T>
DequantizedBatch<T> VariationalDequantizer<T>::dequantize(const TensorU8& pixels, const Tensor<T>& eps) {
  auto [u, log_q] = transform(pixels, eps);
  const double levels = std::ldexp(1.0, bits_);
  Tensor<T> base = Tensor<T>::empty(pixels.shape());
  for (std::size_t i = 0; i < base.numel(); ++i) base[i] = static_cast<T>(pixels[i] / levels);
  return {Var<T>(base) + u * static_cast<T>(1.0 / levels), log_q};
}

template <typename T>
void add_variational_dequantizer(FlowModel<T>& model, std::size_t hidden, int bits, Rng& rng) {
  model.set_dequantizer(
      std::make_shared<VariationalDequantizer<T>>(model.event_shape(), hidden, kDequantizerCouplings, bits, rng));
}

template class VariationalDequantizer<float>;
template class VariationalDequantizer<double>;
template void add_variational_dequantizer<float>(FlowModel<float>&, std::size_t, int, Rng&);
template void add_variational_dequantizer<double>(FlowModel<double>&, std::size_t, int, Rng&);

}  // namespace fz
