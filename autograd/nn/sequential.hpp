// autograd/nn/sequential.hpp — Sequential: layers applied one after another. Children are
// named by position ("0", "1", ...), so parameters read "net.0.weight", "net.2.bias".
//
//   auto net = std::make_shared<Sequential<float>>();
//   net->add(std::make_shared<Linear<float>>(2, 64, rng));
//   net->add(std::make_shared<ReLU<float>>());
//   net->add(std::make_shared<Linear<float>>(64, 2, rng, true, LinearInit::Zeros));
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "module.hpp"

namespace fz {

template <typename T>
class Sequential : public Layer<T> {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Layer<T>>> layers);

  std::string type_name() const override { return "Sequential"; }

  // Appends a layer (named by its position) and returns this, for chaining.
  Sequential& add(std::shared_ptr<Layer<T>> layer);
  Var<T> forward(const Var<T>& x) override;

  std::size_t size() const { return layers_.size(); }
  // Throws std::out_of_range.
  Layer<T>& operator[](std::size_t i) const;
  const std::shared_ptr<Layer<T>>& layer(std::size_t i) const;

 private:
  std::vector<std::shared_ptr<Layer<T>>> layers_;
};

extern template class Sequential<float>;
extern template class Sequential<double>;

}  // namespace fz
