// cli/log_prob_export.cpp — per-example log-likelihoods in a safetensors file.
#include "cli/log_prob_export.hpp"

#include <memory>

#include "autograd/grad_mode.hpp"
#include "autograd/optim/ema.hpp"
#include "tensor/layout.hpp"
#include "tensor/safetensors.hpp"

namespace fz::cli {

void write_log_probs(const std::string& path, LoadedRun& run, const Tensor<float>& inputs, int bits) {
  NoGradGuard no_grad;
  FlowModel<float>& model = *run.model;
  model.eval();
  std::unique_ptr<EmaScope<float>> averaged;
  if (run.trainer->ema()) averaged = std::make_unique<EmaScope<float>>(*run.trainer->ema());
  const std::size_t n = inputs.shape().at(0), batch = 256;
  Tensor<float> log_prob = Tensor<float>::empty({n});
  for (std::size_t b = 0; b < n; b += batch) {
    const std::size_t e = std::min(n, b + batch);
    const Tensor<float> lp = model.log_prob(Var<float>(slice(inputs, 0, static_cast<long>(b), static_cast<long>(e)))).value();
    for (std::size_t i = 0; i < lp.numel(); ++i) log_prob[b + i] = lp[i];
  }
  model.train();
  NamedTensors out;
  out.f32.emplace_back("inputs", inputs);
  out.f32.emplace_back("log_prob", log_prob);
  out.metadata["flowzoo.step"] = std::to_string(run.info.step);
  out.metadata["flowzoo.dims"] = std::to_string(model.dims());
  out.metadata["flowzoo.bits"] = std::to_string(bits);
  save_safetensors(path, out);
}

}  // namespace fz::cli
