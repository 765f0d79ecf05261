// flows/transformers/registry.cpp — the name -> transformer table.
#include "flows/transformers/registry.hpp"

#include <functional>
#include <stdexcept>
#include <utility>

#include "flows/transformers/additive.hpp"
#include "flows/transformers/affine.hpp"
#include "flows/transformers/logistic_mixture.hpp"
#include "flows/transformers/rational_quadratic_spline.hpp"
#include "flows/transformers/sigmoid_affine.hpp"

namespace fz {

namespace {

template <typename T>
using Maker = std::function<std::shared_ptr<Transformer<T>>(const TransformerOptions&)>;

// name -> builder.
template <typename T>
const std::vector<std::pair<std::string, Maker<T>>>& table() {
  static const std::vector<std::pair<std::string, Maker<T>>> kTable = {
      {"additive", [](const TransformerOptions&) { return std::make_shared<AdditiveTransformer<T>>(); }},
      {"affine",
       [](const TransformerOptions& o) { return std::make_shared<AffineTransformer<T>>(o.channels, o.learned_scale); }},
      {"sigmoid-affine", [](const TransformerOptions&) { return std::make_shared<SigmoidAffineTransformer<T>>(); }},
      {"spline",
       [](const TransformerOptions& o) {
         RationalQuadraticSplineOptions spline;
         spline.bins = o.bins;
         spline.tail_bound = o.tail_bound;
         return std::make_shared<RationalQuadraticSplineTransformer<T>>(spline);
       }},
      {"mixture", [](const TransformerOptions& o) { return std::make_shared<LogisticMixtureTransformer<T>>(o.mixtures); }},
  };
  return kTable;
}

}  // namespace

std::vector<std::string> transformer_names() {
  std::vector<std::string> names;
  for (const auto& entry : table<float>()) names.push_back(entry.first);
  return names;
}

std::vector<std::string> transformer_choices() {
  std::vector<std::string> names;
  for (const std::string& name : transformer_names())
    if (name != "sigmoid-affine") names.push_back(name);  // chosen as "affine" on Glow's images
  return names;
}

template <typename T>
std::shared_ptr<Transformer<T>> make_transformer(const std::string& name, const TransformerOptions& options) {
  std::string known;
  for (const auto& [entry, make] : table<T>()) {
    if (entry == name) return make(options);
    known += (known.empty() ? "" : ", ") + entry;
  }
  throw std::invalid_argument("unknown transformer '" + name + "' (" + known + ")");
}

template std::shared_ptr<Transformer<float>> make_transformer<float>(const std::string&, const TransformerOptions&);
template std::shared_ptr<Transformer<double>> make_transformer<double>(const std::string&, const TransformerOptions&);

}  // namespace fz
