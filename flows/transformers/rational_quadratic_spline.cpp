// flows/transformers/rational_quadratic_spline.cpp — RationalQuadraticSplineTransformer: the
// fused spline op in each direction.
#include "flows/transformers/rational_quadratic_spline.hpp"

#include <cmath>

namespace fz {

template <typename T>
RationalQuadraticSplineTransformer<T>::RationalQuadraticSplineTransformer(
    const RationalQuadraticSplineOptions& options)
    : options_(options) {
  options_.inverse = false;
  check_rational_quadratic_spline_options(options_);
}

template <typename T>
Elementwise<T> RationalQuadraticSplineTransformer<T>::forward(const Var<T>& x,
                                                              const Var<T>& params) {
  const RationalQuadraticSplineOutput<T> out = rational_quadratic_spline(x, params, options_);
  return {out.value, out.log_derivative};
}

template <typename T>
Elementwise<T> RationalQuadraticSplineTransformer<T>::inverse(const Var<T>& y,
                                                              const Var<T>& params) {
  RationalQuadraticSplineOptions backwards = options_;
  backwards.inverse = true;
  const RationalQuadraticSplineOutput<T> out = rational_quadratic_spline(y, params, backwards);
  return {out.value, out.log_derivative};
}

template <typename T>
std::vector<double> RationalQuadraticSplineTransformer<T>::identity_parameters() const {
  // Parameters 0 .. 2K-1 (widths, heights) stay 0; 2K .. 3K-2 are the interior derivatives.
  std::vector<double> p(parameters_per_element(), 0.0);
  const double identity_derivative = std::log(std::expm1(1.0 - options_.min_derivative));
  for (std::size_t i = 2 * options_.bins; i < p.size(); ++i) p[i] = identity_derivative;
  return p;
}

template class RationalQuadraticSplineTransformer<float>;
template class RationalQuadraticSplineTransformer<double>;

}  // namespace fz
