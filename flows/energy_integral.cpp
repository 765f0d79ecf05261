// flows/energy_integral.cpp — the midpoint rule for log Z, summed as a log-sum-exp.
#include "flows/energy_integral.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace fz {

double energy_log_normalizer(Energy2D e, std::size_t n, double half_width) {
  if (n < 2 || !(half_width > 0))
    throw std::invalid_argument("energy_log_normalizer: needs n >= 2 and a positive half width");
  const double h = 2 * half_width / static_cast<double>(n);
  std::vector<double> neg_u(n * n);
  double top = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double z1 = -half_width + (static_cast<double>(i) + 0.5) * h;
      const double z2 = -half_width + (static_cast<double>(j) + 0.5) * h;
      neg_u[i * n + j] = -energy_at(e, z1, z2);
      top = std::max(top, neg_u[i * n + j]);
    }
  double total = 0;
  for (double v : neg_u) total += std::exp(v - top);
  return top + std::log(total) + 2 * std::log(h);
}

}  // namespace fz
