// flows/memory_saving.cpp — checkpointed and invertible forwards of a chain of bijectors.
#include "flows/memory_saving.hpp"

#include <algorithm>
#include <cmath>

#include "autograd/checkpoint.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/ops_elementwise.hpp"
#include "flows/flow_model.hpp"

namespace fz {

std::string memory_saving_name(MemorySaving mode) {
  switch (mode) {
    case MemorySaving::none: return "none";
    case MemorySaving::checkpoint: return "checkpoint";
    case MemorySaving::invertible: return "invertible";
  }
  return "none";
}

std::optional<MemorySaving> parse_memory_saving(const std::string& name) {
  if (name == "none") return MemorySaving::none;
  if (name == "checkpoint") return MemorySaving::checkpoint;
  if (name == "invertible") return MemorySaving::invertible;
  return std::nullopt;
}

double ReconstructionStats::worst() const {
  double w = 0;
  for (double e : max_error) w = std::max(w, e);
  return w;
}

namespace {

template <typename T>
double max_abs_difference(const Tensor<T>& a, const Tensor<T>& b) {
  double m = 0;
  const T* pa = a.data();
  const T* pb = b.data();
  for (std::size_t i = 0; i < a.numel(); ++i)
    m = std::max(m, static_cast<double>(std::abs(pa[i] - pb[i])));
  return m;
}

}  // namespace

template <typename T>
Transformed<T> checkpointed_chain_forward(const std::vector<std::shared_ptr<Bijector<T>>>& layers,
                                          const Var<T>& x) {
  Var<T> h = x;
  Var<T> logdet = zero_logdet<T>(x.shape().at(0));
  for (const auto& layer : layers) {
    std::vector<Var<T>> out = checkpoint<T>(
        [layer](const std::vector<Var<T>>& in) {
          Transformed<T> step = layer->forward(in[0]);
          return std::vector<Var<T>>{step.value, step.logdet};
        },
        {h});
    h = out[0];
    logdet = logdet + out[1];
  }
  return {h, logdet};
}

template <typename T>
Transformed<T> invertible_chain_forward(const std::vector<std::shared_ptr<Bijector<T>>>& layers,
                                        const Var<T>& x,
                                        const std::shared_ptr<ReconstructionStats>& stats) {
  Var<T> h = x;
  Var<T> logdet = zero_logdet<T>(x.shape().at(0));
  {
    NoGradGuard no_grad;
    for (const auto& layer : layers) {
      Transformed<T> step = layer->forward(h);
      h = step.value;
      logdet = logdet + step.logdet;
    }
  }
  if (!GradMode::enabled()) return {h, logdet};
  std::vector<Var<T>> out = record_segment<T>(
      "invertible_chain", {h.value(), logdet.value()},
      [layers, x, stats](const std::vector<Var<T>>& outputs, const std::vector<Tensor<T>>& grads) {
        if (stats && stats->max_error.size() < layers.size())
          stats->max_error.resize(layers.size(), 0.0);
        Tensor<T> y = outputs[0].value();
        Tensor<T> gy = grads[0];
        const Tensor<T>& glogdet = grads[1];  // the same for every layer: the log-dets add up
        for (std::size_t i = layers.size(); i-- > 0;) {
          Tensor<T> x_i;
          if (i == 0) {
            x_i = x.value();  // held: no reconstruction
          } else {
            NoGradGuard no_grad;
            x_i = layers[i]->inverse(Var<T>(y, false)).value.value();
          }
          const bool need_input_grad = i > 0 || x.requires_grad();
          Var<T> fresh(x_i, need_input_grad);
          {
            LocalRecording<T> local;
            Transformed<T> step = layers[i]->forward(fresh);
            if (stats && i > 0)
              stats->max_error[i] =
                  std::max(stats->max_error[i], max_abs_difference(step.value.value(), y));
            local.backward({step.value, step.logdet}, {gy, glogdet});
          }
          gy = fresh.grad();
          y = x_i;
          if (!gy.defined() && i > 0) gy = Tensor<T>(y.shape(), T(0));
        }
        if (x.requires_grad() && gy.defined()) x.accumulate_grad(gy);
      });
  return {out[0], out[1]};
}

template <typename T>
void set_memory_saving(FlowModel<T>& model, MemorySaving mode) {
  for (const auto& scale : model.scales()) scale.flow->set_memory_saving(mode);
}

template <typename T>
double worst_reconstruction_error(const FlowModel<T>& model) {
  double w = 0;
  for (const auto& scale : model.scales())
    if (scale.flow->reconstruction_stats()) w = std::max(w, scale.flow->reconstruction_stats()->worst());
  return w;
}

template void set_memory_saving<float>(FlowModel<float>&, MemorySaving);
template void set_memory_saving<double>(FlowModel<double>&, MemorySaving);
template double worst_reconstruction_error<float>(const FlowModel<float>&);
template double worst_reconstruction_error<double>(const FlowModel<double>&);
template Transformed<float> checkpointed_chain_forward<float>(
    const std::vector<std::shared_ptr<Bijector<float>>>&, const Var<float>&);
template Transformed<double> checkpointed_chain_forward<double>(
    const std::vector<std::shared_ptr<Bijector<double>>>&, const Var<double>&);
template Transformed<float> invertible_chain_forward<float>(
    const std::vector<std::shared_ptr<Bijector<float>>>&, const Var<float>&,
    const std::shared_ptr<ReconstructionStats>&);
template Transformed<double> invertible_chain_forward<double>(
    const std::vector<std::shared_ptr<Bijector<double>>>&, const Var<double>&,
    const std::shared_ptr<ReconstructionStats>&);

}  // namespace fz
