// cli/finite_state.cpp — the finiteness scan of a trainer's state before a checkpoint.
#include "cli/finite_state.hpp"

#include <cmath>
#include <cstdio>
#include <memory>

#include "autograd/nn/non_finite_scan.hpp"

namespace fz::cli {

std::string non_finite_state(Trainer<float>& trainer, double last_loss) {
  if (!std::isfinite(last_loss)) {
    char value[32];
    std::snprintf(value, sizeof value, "%g", last_loss);
    return std::string("the last loss is ") + value;
  }
  std::string bad = first_non_finite(trainer.model().state_dict(), "model tensor model.");
  if (bad.empty()) bad = first_non_finite(trainer.optimizer().state_view(), "optimiser state optim.");
  if (bad.empty() && trainer.ema()) bad = first_non_finite(trainer.ema()->state_view(), "Polyak average ema.");
  return bad;
}

std::string non_finite_log_prob(Trainer<float>& trainer, const Tensor<float>& batch) {
  return non_finite_log_prob(trainer, batch, {});
}

std::string non_finite_log_prob(Trainer<float>& trainer, const Tensor<float>& batch,
                                const std::vector<std::int32_t>& labels) {
  FlowModel<float>& model = trainer.model();
  auto first_bad_row = [&](const char* weights) -> std::string {
    const Tensor<float> lp = (model.classes() ? model.log_prob(Var<float>(batch), class_labels(labels, model.classes()))
                                              : model.log_prob(Var<float>(batch))).value();
    for (std::size_t i = 0; i < lp.numel(); ++i)
      if (!std::isfinite(lp[i])) {
        char value[32];
        std::snprintf(value, sizeof value, "%g", static_cast<double>(lp[i]));
        return std::string("the model's log-density (") + weights + ") of row " + std::to_string(i) +
               " of its last batch is " + value;
      }
    return {};
  };
  NoGradGuard no_grad;
  model.eval();
  std::string bad = first_bad_row("raw parameters");
  if (bad.empty() && trainer.ema()) {
    const EmaScope<float> averaged(*trainer.ema());
    bad = first_bad_row("Polyak averages");
  }
  model.train();
  return bad;
}

}  // namespace fz::cli
