// flows/energies.cpp — U1..U4 of Rezende & Mohamed (2015) with their gradients, the soft wall
// that makes U2..U4 normalisable, and the energy op.
#include "flows/energies.hpp"

#include <cmath>
#include <stdexcept>

namespace fz {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kWallAt = 4.0;     // |z1| beyond which the wall rises
constexpr double kWallSd = 0.5;     // its Gaussian fall-off: 0.5 (max(|z1| - 4, 0) / 0.5)^2

// -log(exp(-a) + exp(-b)) and the weights of a and b in its gradient (they sum to 1).
double neg_log_sum_exp(double a, double b, double& weight_a) {
  const double m = std::min(a, b);
  const double ea = std::exp(-(a - m)), eb = std::exp(-(b - m));
  weight_a = ea / (ea + eb);
  return m - std::log(ea + eb);
}

}  // namespace

Energy2D energy_from_name(const std::string& name) {
  if (name == "u1") return Energy2D::kU1;
  if (name == "u2") return Energy2D::kU2;
  if (name == "u3") return Energy2D::kU3;
  if (name == "u4") return Energy2D::kU4;
  throw std::invalid_argument("unknown energy '" + name + "' (known: u1, u2, u3, u4)");
}

std::string energy_name(Energy2D e) {
  switch (e) {
    case Energy2D::kU1: return "u1";
    case Energy2D::kU2: return "u2";
    case Energy2D::kU3: return "u3";
    case Energy2D::kU4: return "u4";
  }
  return "?";
}

std::vector<std::string> energy_names() { return {"u1", "u2", "u3", "u4"}; }

double energy_at(Energy2D e, double z1, double z2, double* grad) {
  double g1 = 0, g2 = 0, u = 0;
  if (e == Energy2D::kU1) {
    const double r = std::sqrt(z1 * z1 + z2 * z2);
    const double ring = (r - 2) / 0.4;
    u = 0.5 * ring * ring;
    if (r > 0) {  // d/dz of the ring term: (r - 2)/0.16 * z / r (0 at the origin: a subgradient)
      g1 = ring / 0.4 * z1 / r;
      g2 = ring / 0.4 * z2 / r;
    }
    const double p = (z1 - 2) / 0.6, q = (z1 + 2) / 0.6;
    double wp = 0;
    u += neg_log_sum_exp(0.5 * p * p, 0.5 * q * q, wp);
    g1 += wp * p / 0.6 + (1 - wp) * q / 0.6;
  } else {
    const double w1 = std::sin(2 * kPi * z1 / 4), dw1 = (2 * kPi / 4) * std::cos(2 * kPi * z1 / 4);
    if (e == Energy2D::kU2) {
      const double a = (z2 - w1) / 0.4;
      u = 0.5 * a * a;
      g2 = a / 0.4;
      g1 = -g2 * dw1;
    } else {
      // Two branches: (z2 - w1)/sa and (z2 - w1 + shift)/sb, shift = w2 (U3) or w3 (U4).
      double shift, dshift, sa;
      if (e == Energy2D::kU3) {
        const double k = (z1 - 1) / 0.6;
        shift = 3 * std::exp(-0.5 * k * k);
        dshift = -shift * k / 0.6;
        sa = 0.35;
      } else {
        const double s = 1 / (1 + std::exp(-(z1 - 1) / 0.3));
        shift = 3 * s;
        dshift = 3 * s * (1 - s) / 0.3;
        sa = 0.4;
      }
      const double a = (z2 - w1) / sa, b = (z2 - w1 + shift) / 0.35;
      double wa = 0;
      u = neg_log_sum_exp(0.5 * a * a, 0.5 * b * b, wa);
      // d(a^2/2) = a da, da/dz1 = -dw1/sa, da/dz2 = 1/sa; db/dz1 = (dshift - dw1)/0.35, db/dz2 = 1/0.35
      g1 = wa * a * (-dw1 / sa) + (1 - wa) * b * (dshift - dw1) / 0.35;
      g2 = wa * a / sa + (1 - wa) * b / 0.35;
    }
    const double over = std::abs(z1) - kWallAt;
    if (over > 0) {
      u += 0.5 * (over / kWallSd) * (over / kWallSd);
      g1 += over / (kWallSd * kWallSd) * (z1 > 0 ? 1 : -1);
    }
  }
  if (grad) {
    grad[0] = g1;
    grad[1] = g2;
  }
  return u;
}

template <typename T>
Var<T> energy(Energy2D e, const Var<T>& z) {
  if (z.dim() != 2 || z.shape()[1] != 2)
    throw std::invalid_argument("energy " + energy_name(e) + ": expected a batch of 2-D points (B, 2), got " +
                                shape_str(z.shape()));
  const std::size_t batch = z.shape()[0];
  Tensor<T> u({batch}), grad({batch, 2});
  for (std::size_t i = 0; i < batch; ++i) {
    double g[2];
    u[i] = static_cast<T>(energy_at(e, static_cast<double>(z.value()[2 * i]), static_cast<double>(z.value()[2 * i + 1]), g));
    grad[2 * i] = static_cast<T>(g[0]);
    grad[2 * i + 1] = static_cast<T>(g[1]);
  }
  // dL/dz = dL/dU * dU/dz, row by row.
  return record_op("energy", u, {z}, [z, grad, batch](const Tensor<T>& g) {
    Tensor<T> gz({batch, 2});
    for (std::size_t i = 0; i < batch; ++i) {
      gz[2 * i] = g[i] * grad[2 * i];
      gz[2 * i + 1] = g[i] * grad[2 * i + 1];
    }
    z.accumulate_grad(std::move(gz));
  });
}

template Var<float> energy<float>(Energy2D, const Var<float>&);
template Var<double> energy<double>(Energy2D, const Var<double>&);

}  // namespace fz
