// flows/transformers/registry.hpp — transformers by name, for the presets and the CLI's
// --transformer. Adding a transformer to the presets is one entry in registry.cpp (which models
// take it is flows/presets.cpp's transformer_refusal).
//
//   additive        AdditiveTransformer (P = 1)
//   affine          AffineTransformer: log-scale scale * tanh(s) with a learned per-channel
//                   "scale" (options.learned_scale), or tanh(s)   (P = 2, RealNVP)
//   sigmoid-affine  SigmoidAffineTransformer: scale sigmoid(pre + 2) (P = 2, Glow)
//   spline          RationalQuadraticSplineTransformer with options.bins K and
//                   options.tail_bound B (P = 3K - 1; the default minimum bin sizes and derivative)
//   mixture         LogisticMixtureTransformer with options.mixtures K (P = 3K + 2)
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "transformer.hpp"

namespace fz {

struct TransformerOptions {
  std::size_t channels = 0;    // k: channels of the transformed part (a learned scale's length)
  bool learned_scale = true;   // affine: scale * tanh(s) (true) or tanh(s)
  std::size_t bins = 8;        // spline: bins K
  double tail_bound = 3.0;     // spline: the interval [-B, B] outside which it is the identity
  std::size_t mixtures = 4;    // mixture: logistic components K
};

// Every name make_transformer knows ("additive", "affine", ...).
std::vector<std::string> transformer_names();

// The names a model configuration (PresetConfig::transformer, the CLI's --transformer) may ask
// for: every name but "sigmoid-affine", which is what "affine" means on Glow's images.
std::vector<std::string> transformer_choices();

// Throws std::invalid_argument for an unknown name, listing the known ones.
template <typename T>
std::shared_ptr<Transformer<T>> make_transformer(const std::string& name, const TransformerOptions& options);

extern template std::shared_ptr<Transformer<float>> make_transformer<float>(const std::string&, const TransformerOptions&);
extern template std::shared_ptr<Transformer<double>> make_transformer<double>(const std::string&, const TransformerOptions&);

}  // namespace fz
