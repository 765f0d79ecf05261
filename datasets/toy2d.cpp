// datasets/toy2d.cpp — samplers for the toy 2-D densities (all computed in double).
#include "datasets/toy2d.hpp"

#include <cmath>
#include <stdexcept>

#include "tensor/random.hpp"

namespace fz {

namespace {

constexpr double kPi = 3.14159265358979323846;

struct NamedToy {
  const char* name;
  Toy2D kind;
};
const NamedToy kNames[] = {{"moons", Toy2D::Moons},           {"circles", Toy2D::Circles},
                           {"8gaussians", Toy2D::EightGaussians}, {"checkerboard", Toy2D::Checkerboard},
                           {"pinwheel", Toy2D::Pinwheel},     {"spirals", Toy2D::Spirals},
                           {"swissroll", Toy2D::SwissRoll}};

// Each sampler writes one point (x, y) per call; they draw only from rng, in a fixed order.
void moons(Rng& rng, double* p) {
  double t = rng.uniform(0.0, kPi);
  bool second = rng.bernoulli(0.5);
  double x = second ? 1.0 - std::cos(t) : std::cos(t);
  double y = second ? 0.5 - std::sin(t) : std::sin(t);
  p[0] = x + rng.normal(0.0, 0.05);
  p[1] = y + rng.normal(0.0, 0.05);
}

void circles(Rng& rng, double* p) {
  double t = rng.uniform(0.0, 2.0 * kPi);
  double r = rng.bernoulli(0.5) ? 0.5 : 1.0;
  p[0] = 3.0 * (r * std::cos(t) + rng.normal(0.0, 0.08));
  p[1] = 3.0 * (r * std::sin(t) + rng.normal(0.0, 0.08));
}

void eight_gaussians(Rng& rng, double* p) {
  const double s = 1.0 / std::sqrt(2.0);
  const double cx[8] = {1, -1, 0, 0, s, s, -s, -s};
  const double cy[8] = {0, 0, 1, -1, s, -s, s, -s};
  std::size_t k = rng.below(8);
  p[0] = (4.0 * cx[k] + rng.normal(0.0, 0.5)) / 1.414;
  p[1] = (4.0 * cy[k] + rng.normal(0.0, 0.5)) / 1.414;
}

void checkerboard(Rng& rng, double* p) {
  double x1 = rng.uniform(0.0, 4.0) - 2.0;
  double x2 = rng.uniform(0.0, 1.0) - 2.0 * static_cast<double>(rng.below(2));
  // Python's floor(x1) % 2 is always 0 or 1.
  double f = std::floor(x1);
  x2 += f - 2.0 * std::floor(f / 2.0);
  p[0] = 2.0 * x1;
  p[1] = 2.0 * x2;
}

void pinwheel(Rng& rng, double* p) {
  const double radial_sd = 0.3, tangential_sd = 0.1, rate = 0.25;
  const int classes = 5;
  std::size_t k = rng.below(classes);
  double f0 = rng.normal(0.0, radial_sd) + 1.0;
  double f1 = rng.normal(0.0, tangential_sd);
  double angle = 2.0 * kPi * static_cast<double>(k) / classes + rate * std::exp(f0);
  double c = std::cos(angle), s = std::sin(angle);
  // features @ [[c, -s], [s, c]]
  p[0] = 2.0 * (f0 * c + f1 * s);
  p[1] = 2.0 * (-f0 * s + f1 * c);
}

void spirals(Rng& rng, double* p) {
  double n = std::sqrt(rng.uniform()) * 540.0 * (2.0 * kPi) / 360.0;
  double x = -std::cos(n) * n + rng.uniform() * 0.5;
  double y = std::sin(n) * n + rng.uniform() * 0.5;
  if (rng.bernoulli(0.5)) {
    x = -x;
    y = -y;
  }
  p[0] = x / 3.0 + rng.normal(0.0, 0.1);
  p[1] = y / 3.0 + rng.normal(0.0, 0.1);
}

void swissroll(Rng& rng, double* p) {
  double t = 1.5 * kPi * (1.0 + 2.0 * rng.uniform());
  double x = t * std::cos(t) + rng.normal();
  rng.normal();  // the roll's height axis (unused in the projection)
  double z = t * std::sin(t) + rng.normal();
  p[0] = x / 5.0;
  p[1] = z / 5.0;
}

}  // namespace

Toy2D toy2d_from_name(const std::string& name) {
  for (const auto& e : kNames)
    if (name == e.name) return e.kind;
  if (name == "2spirals") return Toy2D::Spirals;
  if (name == "two_moons") return Toy2D::Moons;
  std::string valid;
  for (const auto& e : kNames) valid += (valid.empty() ? "" : ", ") + std::string(e.name);
  throw std::invalid_argument("unknown toy 2-D density '" + name + "' (valid: " + valid + ")");
}

std::string toy2d_name(Toy2D kind) {
  for (const auto& e : kNames)
    if (e.kind == kind) return e.name;
  return "unknown";
}

std::vector<std::string> toy2d_names() {
  std::vector<std::string> out;
  for (const auto& e : kNames) out.push_back(e.name);
  return out;
}

template <typename T>
Tensor<T> sample_toy2d(Toy2D kind, std::size_t n, std::uint64_t seed) {
  void (*draw)(Rng&, double*) = nullptr;
  switch (kind) {
    case Toy2D::Moons: draw = moons; break;
    case Toy2D::Circles: draw = circles; break;
    case Toy2D::EightGaussians: draw = eight_gaussians; break;
    case Toy2D::Checkerboard: draw = checkerboard; break;
    case Toy2D::Pinwheel: draw = pinwheel; break;
    case Toy2D::Spirals: draw = spirals; break;
    case Toy2D::SwissRoll: draw = swissroll; break;
  }
  if (!draw) throw std::invalid_argument("sample_toy2d: unknown kind");
  Rng rng(seed);
  Tensor<T> out = Tensor<T>::empty({n, 2});
  double p[2];
  for (std::size_t i = 0; i < n; ++i) {
    draw(rng, p);
    out[2 * i] = static_cast<T>(p[0]);
    out[2 * i + 1] = static_cast<T>(p[1]);
  }
  return out;
}

template Tensor<float> sample_toy2d<float>(Toy2D, std::size_t, std::uint64_t);
template Tensor<double> sample_toy2d<double>(Toy2D, std::size_t, std::uint64_t);

}  // namespace fz
