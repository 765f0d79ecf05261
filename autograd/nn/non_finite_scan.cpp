// autograd/nn/non_finite_scan.cpp — first_non_finite: a linear scan, stopping at the first hit.
#include "autograd/nn/non_finite_scan.hpp"

#include <cmath>
#include <cstdio>

namespace fz {

template <typename T>
std::string first_non_finite(const StateDict<T>& state, const std::string& prefix) {
  for (const auto& [name, t] : state)
    for (std::size_t i = 0; i < t.numel(); ++i)
      if (!std::isfinite(t[i])) {
        char value[32];
        std::snprintf(value, sizeof value, "%g", static_cast<double>(t[i]));
        return prefix + name + " holds " + value + " (element " + std::to_string(i) + ")";
      }
  return {};
}

template std::string first_non_finite<float>(const StateDict<float>&, const std::string&);
template std::string first_non_finite<double>(const StateDict<double>&, const std::string&);

}  // namespace fz
