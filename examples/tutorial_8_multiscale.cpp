// examples/tutorial_8_multiscale.cpp — docs/tutorial.md, section 8 "Multi-scale: squeeze,
// factor out, bits/dim".
//
// A bijection keeps the dimension, so an image flow's latent is as big as the image. RealNVP's
// multi-scale architecture makes that cheap: a squeeze turns (C, H, W) into (4C, H/2, W/2)
// (a permutation of the values, log-det 0), and after each scale a Split factors out half the
// channels, z_i, which leave the flow and are scored right there by their prior; the other half
// goes on to the next, smaller scale. The latents together still hold exactly D numbers, and
//     log p(x) = sum of every log|det J| (preprocessing included) + sum_i log p(z_i) + log p(z_top).
// For 8-bit images the density of the dequantized x = (k + u)/256 becomes a code length:
//     bits/dim = -(log p(x) - D ln 256) / (D ln 2).
//
// This program builds the "realnvp" preset for 1 x 8 x 8 images with 2 scales (tiny: hidden 8,
// 1 residual block, 2 couplings per group), gives it 20 maximum-likelihood steps on four random
// images (its couplings start as the identity: their last layer is zero), walks the batch
// through it layer by layer printing every shape and log-det, sums the terms by hand, and
// compares the total with FlowModel::log_prob and the bits/dim with
// flows/image_likelihood.hpp's bits_per_dim.
//
//   build/examples/tutorial_8_multiscale
#include <cmath>
#include <cstdio>

#include "examples/tutorial_common.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/presets.hpp"

using namespace fz;

static double mean_of(const Var64& per_sample) {
  double s = 0;
  for (std::size_t i = 0; i < per_sample.numel(); ++i) s += per_sample.value()[i];
  return s / double(per_sample.numel());
}

int main() {
  PresetConfig config;
  config.model = "realnvp";
  config.event_shape = {1, 8, 8};
  config.levels = 2;
  config.hidden = 8;
  config.blocks = 1;
  config.couplings = 2;
  Rng init_rng(8);
  auto model = make_flow<double>(config, init_rng);

  // Four random 8-bit images; a few training steps on them, then one dequantized draw:
  // x = (k + u) / 256 in [0, 1).
  const std::size_t batch = 4, dims = model->dims();
  Rng data_rng(9);
  TensorU8 pixels(Shape{batch, 1, 8, 8});
  for (std::size_t i = 0; i < pixels.numel(); ++i) pixels[i] = static_cast<std::uint8_t>(data_rng.uniform(0, 256));
  Trainer<double> trainer(model, TrainerOptions{}, /*seed=*/0);
  for (int step = 0; step < 20; ++step) trainer.step_images(pixels);
  model->eval();
  const Tensor64 x = dequantize<double>(pixels, data_rng);

  NoGradGuard no_grad;
  std::printf("shapes through the flow (B = %zu) and each step's log|det J| (mean over the batch)\n", batch);
  // The preprocessing chain, as the model's child module "preprocess" (preprocess() is read-only).
  std::shared_ptr<Chain<double>> preprocess;
  for (const auto& [name, child] : model->children())
    if (name == "preprocess") preprocess = std::dynamic_pointer_cast<Chain<double>>(child);
  Transformed<double> pre = preprocess->forward(Var64(x));
  std::printf("  %-34s %s -> %s  %12.6f\n", "preprocess (logit)", shape_str(x.shape()).c_str(),
              shape_str(pre.value.shape()).c_str(), mean_of(pre.logdet));
  const double preprocess_logdet = mean_of(pre.logdet);
  double logdets = preprocess_logdet, priors = 0;
  std::size_t latent_dims = 0;
  Var64 h = pre.value;
  for (std::size_t s = 0; s < model->scales().size(); ++s) {
    const auto& scale = model->scales()[s];
    for (std::size_t k = 0; k < scale.flow->size(); ++k) {
      const Shape in = h.shape();
      const Transformed<double> step = (*scale.flow)[k]->forward(h);
      h = step.value;
      logdets += mean_of(step.logdet);
      const std::string name = "scale " + std::to_string(s) + ": " + (*scale.flow)[k]->type_name();
      std::printf("  %-34s %s -> %s  %12.6f\n", name.c_str(), shape_str(in).c_str(), shape_str(h.shape()).c_str(),
                  mean_of(step.logdet));
    }
    if (scale.split) {
      const SplitOutput<double> out = scale.split->forward(h);
      priors += mean_of(out.log_prob);
      latent_dims += out.z.numel() / batch;
      std::printf("  %-34s %s -> kept %s, factored out z%zu %s\n", ("scale " + std::to_string(s) + ": split").c_str(),
                  shape_str(h.shape()).c_str(), shape_str(out.kept.shape()).c_str(), s, shape_str(out.z.shape()).c_str());
      h = out.kept;
    }
  }
  const double top = mean_of(model->base().log_prob(h));
  latent_dims += h.numel() / batch;
  std::printf("  %-34s %s\n", "top latent (standard normal)", shape_str(h.shape()).c_str());
  std::printf("numbers per image: data %zu, all latents together %zu\n", dims, latent_dims);

  // The bookkeeping, as means over the batch, in nats per image.
  const double by_hand = logdets + priors + top;
  const Var64 log_prob = model->log_prob(Var64(x));
  const double bpd_by_hand = -(by_hand - double(dims) * std::log(256.0)) / (double(dims) * std::log(2.0));
  std::printf("\nlog p(x), mean over the batch, in nats:\n");
  std::printf("  sum of every log|det J|       %12.6f   (of which the logit: %.6f)\n", logdets, preprocess_logdet);
  std::printf("  + log p(z_i) of the splits    %12.6f\n", priors);
  std::printf("  + log p(z_top)                %12.6f\n", top);
  std::printf("  = by hand                     %12.6f\n", by_hand);
  std::printf("  FlowModel::log_prob           %12.6f\n", mean_of(log_prob));
  std::printf("bits/dim = -(log p - %zu ln 256) / (%zu ln 2):\n", dims, dims);
  std::printf("  by hand                       %12.6f\n", bpd_by_hand);
  std::printf("  bits_per_dim                  %12.6f\n", bits_per_dim<double>(log_prob, dims).value()[0]);
  return 0;
}
