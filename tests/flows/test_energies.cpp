// tests/flows/test_energies.cpp — the targets of the variational fit: U1..U4 against their
// formulas (Rezende & Mohamed 2015, Table 1, plus the documented wall) at a few points, the
// energy op's gradient against central differences, log Z's convergence in the grid size and
// its closed form for U2..U4 (flows/energy_integral.hpp).
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/gradcheck.hpp"
#include "flows/energies.hpp"
#include "flows/energy_integral.hpp"
#include "tensor/random.hpp"

using namespace fz;

namespace {

constexpr double kPi = 3.14159265358979323846;

// The table's formulas written out plainly (no shared code with flows/energies.cpp).
double reference_energy(const std::string& name, double z1, double z2) {
  const double w1 = std::sin(2 * kPi * z1 / 4);
  const double w2 = 3 * std::exp(-0.5 * std::pow((z1 - 1) / 0.6, 2));
  const double w3 = 3 / (1 + std::exp(-(z1 - 1) / 0.3));
  const double wall = std::abs(z1) > 4 ? 0.5 * std::pow((std::abs(z1) - 4) / 0.5, 2) : 0.0;
  if (name == "u1")
    return 0.5 * std::pow((std::hypot(z1, z2) - 2) / 0.4, 2) -
           std::log(std::exp(-0.5 * std::pow((z1 - 2) / 0.6, 2)) + std::exp(-0.5 * std::pow((z1 + 2) / 0.6, 2)));
  if (name == "u2") return 0.5 * std::pow((z2 - w1) / 0.4, 2) + wall;
  if (name == "u3")
    return -std::log(std::exp(-0.5 * std::pow((z2 - w1) / 0.35, 2)) +
                     std::exp(-0.5 * std::pow((z2 - w1 + w2) / 0.35, 2))) + wall;
  return -std::log(std::exp(-0.5 * std::pow((z2 - w1) / 0.4, 2)) + std::exp(-0.5 * std::pow((z2 - w1 + w3) / 0.35, 2))) +
         wall;
}

}  // namespace

TEST_CASE("energies: U1..U4 match the table's formulas, the wall only beyond |z1| = 4", "[flows][energies]") {
  const double points[][2] = {{0.3, -0.7}, {2.0, 0.0}, {-1.5, 1.2}, {1.0, -2.5}, {3.9, 0.4}, {4.6, -0.3}, {-5.2, 1.1}};
  for (const std::string& name : energy_names())
    for (const auto& p : points) {
      INFO(name << " at (" << p[0] << ", " << p[1] << ")");
      CHECK(energy_at(energy_from_name(name), p[0], p[1]) == Approx(reference_energy(name, p[0], p[1])).epsilon(1e-12));
    }
  // U1 decays by itself: no wall (the same value as the bare formula far out).
  CHECK(energy_at(Energy2D::kU1, 5.0, 0.0) == Approx(reference_energy("u1", 5.0, 0.0)));
  // The wall: U2 at z1 = 5 on its ridge (z2 = w1) is 0.5 (1/0.5)^2 = 2.
  CHECK(energy_at(Energy2D::kU2, 5.0, std::sin(2 * kPi * 5 / 4)) == Approx(2.0).epsilon(1e-12));
  CHECK_THROWS_WITH(energy_from_name("u5"), Catch::Contains("u1, u2, u3, u4"));
}

TEST_CASE("energies: the energy op's gradient matches central differences", "[flows][energies]") {
  Rng rng(3);
  for (const std::string& name : energy_names()) {
    INFO(name);
    const Energy2D e = energy_from_name(name);
    Tensor64 z = rng.uniform<double>({6, 2}, -5.0, 5.0);
    const GradcheckResult r = gradcheck([e](const std::vector<Var64>& in) { return energy(e, in[0]); }, {z});
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("energies: log Z converges in the grid size and matches the closed forms of U2..U4", "[flows][energies]") {
  const double s2pi = std::sqrt(2 * kPi);
  const double width = 8 + s2pi / 2;  // [-4, 4] plus the two walls' half-Gaussian tails (sd 0.5)
  const double closed[] = {0, std::log(0.4 * s2pi * width), std::log(0.7 * s2pi * width), std::log(0.75 * s2pi * width)};
  for (const std::string& name : energy_names()) {
    INFO(name);
    const Energy2D e = energy_from_name(name);
    const double coarse = energy_log_normalizer(e, 1000), fine = energy_log_normalizer(e, 2000);
    CHECK(std::abs(coarse - fine) < 1e-3);
    CHECK(std::isfinite(fine));
    if (e != Energy2D::kU1) CHECK(std::abs(fine - closed[static_cast<int>(e)]) < 1e-6);
  }
  // A box too small misses mass: the integral notices.
  CHECK(energy_log_normalizer(Energy2D::kU2, 400, 3.0) < energy_log_normalizer(Energy2D::kU2, 400) - 0.1);
}
