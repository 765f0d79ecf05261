// flows/planar_radial_models.cpp — K planar or radial layers on a standard normal base.
#include "flows/planar_radial_models.hpp"

#include <stdexcept>

#include "flows/bijectors/planar.hpp"
#include "flows/bijectors/radial.hpp"

namespace fz {

template <typename T>
std::shared_ptr<FlowModel<T>> make_planar_radial_flow(const std::string& kind, std::size_t layers, std::size_t dims,
                                                      Rng& rng) {
  if (kind != "planar" && kind != "radial")
    throw std::invalid_argument("make_planar_radial_flow: unknown kind '" + kind + "' (planar or radial)");
  if (layers == 0 || dims == 0)
    throw std::invalid_argument("make_planar_radial_flow: needs at least one layer and one dimension");
  auto chain = std::make_shared<Chain<T>>();
  for (std::size_t k = 0; k < layers; ++k) {
    if (kind == "planar") chain->add(make_planar_layer<T>(dims, rng));
    else chain->add(make_radial_layer<T>(dims, rng));
  }
  typename FlowModel<T>::Scale scale{chain, nullptr};
  return std::make_shared<FlowModel<T>>(Shape{dims}, nullptr, std::vector<typename FlowModel<T>::Scale>{scale},
                                        std::make_shared<StandardNormal<T>>());
}

template std::shared_ptr<FlowModel<float>> make_planar_radial_flow<float>(const std::string&, std::size_t, std::size_t,
                                                                          Rng&);
template std::shared_ptr<FlowModel<double>> make_planar_radial_flow<double>(const std::string&, std::size_t,
                                                                            std::size_t, Rng&);

}  // namespace fz
