// flows/ode/dormand_prince.cpp — adaptive Dormand-Prince 5(4) on Var states (see the header).
#include "flows/ode/dormand_prince.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "autograd/grad_mode.hpp"

namespace fz {

namespace {

// The Butcher tableau of Dormand & Prince (1980): nodes c, stage weights a (row i: the weights
// of k_0..k_{i-1} for stage i), the 5th-order weights b5 (= the last row: FSAL) and the
// embedded 4th-order weights b4.
constexpr double kC[7] = {0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0};
const std::vector<std::vector<double>> kA = {
    {},
    {1.0 / 5},
    {3.0 / 40, 9.0 / 40},
    {44.0 / 45, -56.0 / 15, 32.0 / 9},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
};
const std::vector<double> kB5 = {35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0.0};
const std::vector<double> kB4 = {5179.0 / 57600, 0.0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100,
                                 1.0 / 40};

std::vector<double> scaled(const std::vector<double>& w, double h) {
  std::vector<double> out(w);
  for (double& v : out) v *= h;
  return out;
}

// RMS over every element of every part of value(p, i) / scale(p, i).
template <typename T, typename Value, typename Scale>
double scaled_rms(const OdeState<T>& like, Value value, Scale scale) {
  double sum = 0;
  std::size_t n = 0;
  for (std::size_t p = 0; p < like.size(); ++p)
    for (std::size_t i = 0; i < like[p].numel(); ++i, ++n) {
      const double r = value(p, i) / scale(p, i);
      sum += r * r;
    }
  return n ? std::sqrt(sum / double(n)) : 0.0;
}

std::string time_text(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", t);
  return buf;
}

}  // namespace

template <typename T>
OdeState<T> integrate_dormand_prince(const OdeFunction<T>& f, const OdeState<T>& y0, double t0, double t1,
                                     const DormandPrinceOptions& o, OdeStats& stats) {
  if (!(o.rtol > 0) || !(o.atol > 0) || !std::isfinite(o.rtol) || !std::isfinite(o.atol))
    throw std::invalid_argument("dopri5: rtol and atol must be positive and finite, got " + time_text(o.rtol) +
                                " and " + time_text(o.atol));
  if (o.max_steps == 0) throw std::invalid_argument("dopri5: the step cap must be at least 1");
  const double span = t1 - t0, total = std::abs(span), dir = span < 0 ? -1.0 : 1.0;
  if (total == 0) return y0;
  auto eval = [&](double t, const OdeState<T>& y) {
    OdeState<T> dy = f(T(t), y);
    ++stats.function_evaluations;
    check_derivative("dopri5", y, dy);
    return dy;
  };
  auto at = [](const OdeState<T>& s, std::size_t p, std::size_t i) { return double(s[p].value()[i]); };

  OdeState<T> y = y0;
  OdeState<T> k_first = eval(t0, y);
  if (!ode_state_finite(k_first)) return ode_combine(y, {span}, {k_first});

  double h = o.first_step > 0 ? std::min(o.first_step, total) : 0.0;
  if (h == 0) {  // Hairer's starting step: h0 from |y0| / |f0|, refined by one probe at t0 + h0
    auto sc = [&](std::size_t p, std::size_t i) { return o.atol + o.rtol * std::abs(at(y, p, i)); };
    const double d0 = scaled_rms(y, [&](std::size_t p, std::size_t i) { return at(y, p, i); }, sc);
    const double d1 = scaled_rms(y, [&](std::size_t p, std::size_t i) { return at(k_first, p, i); }, sc);
    const double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    OdeState<T> f1;
    {
      NoGradGuard probe_only;  // the probe decides a constant; it is not part of the solution
      f1 = eval(t0 + dir * h0, ode_combine(y, {dir * h0}, {k_first}));
    }
    const double d2 =
        scaled_rms(y, [&](std::size_t p, std::size_t i) { return at(f1, p, i) - at(k_first, p, i); }, sc) / h0;
    const double dmax = std::max(d1, d2);
    const double h1 = (dmax <= 1e-15 || !std::isfinite(dmax)) ? std::max(1e-6, h0 * 1e-3) : std::pow(0.01 / dmax, 0.2);
    h = std::min({100 * h0, h1, total});
  }

  double s = 0;  // distance travelled from t0 towards t1
  std::size_t attempts = 0;
  std::vector<OdeState<T>> k(7);
  while (s < total) {
    const double t = t0 + dir * s;
    if (attempts == o.max_steps)
      throw OdeStepCapError("dopri5: reached its cap of " + std::to_string(o.max_steps) + " steps at t = " +
                                time_text(t) + " of [" + time_text(t0) + ", " + time_text(t1) +
                                "] (a stiff or diverging flow: loosen the tolerances, --ode-rtol / --ode-atol)",
                            t);
    if (!(h > 1e-12 * std::max(1.0, total)))
      throw OdeStepCapError("dopri5: the step size underflowed (" + time_text(h) + ") at t = " + time_text(t) +
                                " of [" + time_text(t0) + ", " + time_text(t1) + "]",
                            t);
    ++attempts;
    // Within rounding of t1 counts as reaching it (no extra step of size 1e-16 at the end).
    const bool last = s + h >= total * (1 - 1e-12);
    const double step = last ? total - s : h;
    const double sh = dir * step;
    k[0] = k_first;
    for (std::size_t i = 1; i < 6; ++i) k[i] = eval(t + kC[i] * sh, ode_combine(y, scaled(kA[i], sh), k));
    OdeState<T> y5 = ode_combine(y, scaled(kB5, sh), k);
    k[6] = eval(t + sh, y5);
    // (y5 - y4) = sh * sum_i (b5_i - b4_i) k_i, on the values.
    const double err = scaled_rms(
        y,
        [&](std::size_t p, std::size_t i) {
          double e = 0;
          for (std::size_t j = 0; j < 7; ++j) e += (kB5[j] - kB4[j]) * at(k[j], p, i);
          return sh * e;
        },
        [&](std::size_t p, std::size_t i) {
          return o.atol + o.rtol * std::max(std::abs(at(y, p, i)), std::abs(at(y5, p, i)));
        });
    if (err <= 1.0) {
      y = std::move(y5);
      k_first = k[6];
      s = last ? total : s + step;
      ++stats.accepted_steps;
      h = step * (err == 0 ? 10.0 : std::clamp(0.9 * std::pow(err, -0.2), 0.2, 10.0));
    } else {
      ++stats.rejected_steps;
      h = step * (std::isfinite(err) ? std::clamp(0.9 * std::pow(err, -0.2), 0.2, 1.0) : 0.2);
    }
  }
  return y;
}

template OdeState<float> integrate_dormand_prince(const OdeFunction<float>&, const OdeState<float>&, double, double,
                                                  const DormandPrinceOptions&, OdeStats&);
template OdeState<double> integrate_dormand_prince(const OdeFunction<double>&, const OdeState<double>&, double,
                                                   double, const DormandPrinceOptions&, OdeStats&);

}  // namespace fz
