// flows/planar_radial_models.hpp — the flows of Rezende & Mohamed (2015) as complete models: a
// stack of K planar (flows/bijectors/planar.hpp) or radial (flows/bijectors/radial.hpp) layers
// on a standard normal base, single scale, no preprocessing. Every layer starts near the
// identity, so the untrained model is close to the base. Sampling (the layers' closed-form
// generative maps) is what the reverse-KL fit trains (flows/reverse_kl.hpp); log_prob runs the
// layers' forward, the planar one through its per-sample root solve.
#pragma once

#include <memory>
#include <string>

#include "flow_model.hpp"
#include "../tensor/random.hpp"

namespace fz {

// kind: "planar" or "radial"; layers K >= 1; dims D >= 1. Throws std::invalid_argument.
template <typename T>
std::shared_ptr<FlowModel<T>> make_planar_radial_flow(const std::string& kind, std::size_t layers, std::size_t dims,
                                                      Rng& rng);

extern template std::shared_ptr<FlowModel<float>> make_planar_radial_flow<float>(const std::string&, std::size_t,
                                                                                 std::size_t, Rng&);
extern template std::shared_ptr<FlowModel<double>> make_planar_radial_flow<double>(const std::string&, std::size_t,
                                                                                   std::size_t, Rng&);

}  // namespace fz
