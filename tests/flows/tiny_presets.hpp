// tests/flows/tiny_presets.hpp — every preset at a tiny size, shared by the model tests and
// the log-det breakdown tests (one list, so a new preset variant is tested everywhere), and the
// correlated 2-D Gaussian the trainer and divergence tests learn.
#pragma once

#include <string>
#include <vector>

#include "flows/presets.hpp"

namespace fz::testing {

struct TinyPreset {
  std::string name;
  PresetConfig config;
  double lo, hi;  // range of the test data (inside the preprocessing's domain)
  // resflow: the training-mode log-det is a random estimate (fresh probes each call), so tests
  // that compare two training-mode evaluations skip it; it has no couplings either.
  bool random_training_loss = false;
  bool has_couplings = true;
};

// Glow on 1x4x4 images: two levels of two steps (ActNorm, LU 1x1 convolution, affine coupling).
inline PresetConfig tiny_glow_config() {
  PresetConfig glow;
  glow.model = "glow";
  glow.event_shape = {1, 4, 4};
  glow.levels = 2;
  glow.steps_per_level = 2;
  glow.hidden = 8;
  return glow;
}

// The image forms: NICE, RealNVP, Glow (affine + LU), Glow (additive, plain 1x1, learned top) and
// Flow++ (without and with attention).
inline std::vector<TinyPreset> tiny_image_presets() {
  std::vector<TinyPreset> out;
  PresetConfig nice;
  nice.model = "nice";
  nice.event_shape = {1, 2, 4};
  nice.hidden = 8;
  nice.blocks = 2;
  out.push_back({"nice images", nice, 0.0, 1.0});
  PresetConfig realnvp;
  realnvp.model = "realnvp";
  realnvp.event_shape = {1, 4, 4};
  realnvp.levels = 1;
  realnvp.hidden = 4;
  realnvp.blocks = 1;
  out.push_back({"realnvp images", realnvp, 0.02, 0.98});
  const PresetConfig glow = tiny_glow_config();
  out.push_back({"glow images", glow, 0.0, 1.0});
  PresetConfig glow_add = glow;
  glow_add.affine = false;
  glow_add.lu = false;
  glow_add.learn_top = true;
  out.push_back({"glow additive, plain 1x1, learned top", glow_add, 0.0, 1.0});
  // Flow++ couplings in the Glow skeleton: logistic mixtures of 2 components, gated conditioner
  // of 4 features x 1 block; and with 2-head attention, weight norm, plain 1x1 and a learned top.
  PresetConfig flowpp;
  flowpp.model = "flowpp";
  flowpp.event_shape = {1, 4, 4};
  flowpp.levels = 2;
  flowpp.steps_per_level = 1;
  flowpp.hidden = 4;
  flowpp.blocks = 1;
  flowpp.mixtures = 2;
  out.push_back({"flowpp images", flowpp, 0.0, 1.0});
  PresetConfig flowpp_attn = flowpp;
  flowpp_attn.attention_heads = 2;
  flowpp_attn.weight_norm = true;
  flowpp_attn.lu = false;
  flowpp_attn.learn_top = true;
  out.push_back({"flowpp attention, weight norm, plain 1x1, learned top", flowpp_attn, 0.0, 1.0});
  return out;
}

// The image forms and the 2-D (vector) form of each family, and the 2-D FFJORD.
inline std::vector<TinyPreset> tiny_presets() {
  std::vector<TinyPreset> out = tiny_image_presets();
  for (const char* m : {"nice", "realnvp", "glow"}) {
    PresetConfig toy;
    toy.model = m;
    toy.event_shape = {2};
    toy.hidden = 8;
    toy.couplings = 4;
    toy.steps_per_level = 3;
    out.push_back({std::string(m) + " 2-D", toy, -2.0, 2.0});
  }
  // The residual flow: two ActNorm + i-ResNet blocks (no transformer; exact log-det in eval mode).
  PresetConfig resflow;
  resflow.model = "resflow";
  resflow.event_shape = {2};
  resflow.hidden = 8;
  resflow.couplings = 2;
  out.push_back({"resflow 2-D", resflow, -2.0, 2.0, /*random_training_loss=*/true, /*has_couplings=*/false});
  // FFJORD: one CNF block, velocity MLP (2 + t) -> 8 -> 2, dopri5 at a tolerance tight enough for
  // the round trips and finite differences every preset is held to (1e-9).
  PresetConfig ffjord;
  ffjord.model = "ffjord";
  ffjord.event_shape = {2};
  ffjord.hidden = 8;
  ffjord.blocks = 1;
  ffjord.ode_rtol = 1e-11;
  ffjord.ode_atol = 1e-11;
  out.push_back({"ffjord 2-D", ffjord, -2.0, 2.0, /*random_training_loss=*/false, /*has_couplings=*/false});
  return out;
}

// (n, event...) — a batch of n events.
inline Shape batch_shape(std::size_t n, const Shape& event) {
  Shape s = {n};
  s.insert(s.end(), event.begin(), event.end());
  return s;
}

// n draws of a correlated Gaussian: x2 = 0.9 x1 + 0.3 eps (x1, eps standard normal), whose
// differential entropy is log(2 pi e) + 1/2 log 0.09.
inline Tensor<float> correlated_gaussian_batch(Rng& rng, std::size_t n) {
  Tensor<float> x({n, 2});
  for (std::size_t i = 0; i < n; ++i) {
    const double a = rng.normal(), b = rng.normal();
    x[2 * i] = static_cast<float>(a);
    x[2 * i + 1] = static_cast<float>(0.9 * a + 0.3 * b);
  }
  return x;
}

}  // namespace fz::testing
