// tests/datasets/test_toy2d.cpp — toy 2-D densities: shapes, seeding, and statistics that
// pin down each definition.
#include <catch2/catch.hpp>

#include <cmath>

#include "datasets/toy2d.hpp"

namespace {

struct Stats {
  double mx = 0, my = 0;
};
Stats mean(const fz::Tensor<double>& p) {
  Stats s;
  const std::size_t n = p.size(0);
  for (std::size_t i = 0; i < n; ++i) s.mx += p[2 * i], s.my += p[2 * i + 1];
  s.mx /= n, s.my /= n;
  return s;
}

}  // namespace

TEST_CASE("toy2d: names, shapes and seeds", "[datasets][toy2d]") {
  REQUIRE(fz::toy2d_names().size() == 7);
  for (const std::string& name : fz::toy2d_names()) {
    fz::Toy2D kind = fz::toy2d_from_name(name);
    REQUIRE(fz::toy2d_name(kind) == name);
    fz::Tensor<double> a = fz::sample_toy2d<double>(kind, 1000, 7);
    fz::Tensor<double> b = fz::sample_toy2d<double>(kind, 1000, 7);
    fz::Tensor<double> c = fz::sample_toy2d<double>(kind, 1000, 8);
    fz::Tensor<float> f = fz::sample_toy2d<float>(kind, 1000, 7);
    REQUIRE(a.shape() == fz::Shape{1000, 2});
    REQUIRE(f.shape() == fz::Shape{1000, 2});
    std::size_t same_seed_diff = 0, other_seed_diff = 0;
    for (std::size_t i = 0; i < a.numel(); ++i) {
      REQUIRE(std::isfinite(a[i]));
      same_seed_diff += a[i] != b[i];
      other_seed_diff += a[i] != c[i];
      REQUIRE(f[i] == static_cast<float>(a[i]));
    }
    INFO(name);
    CHECK(same_seed_diff == 0);
    CHECK(other_seed_diff > 1900);
  }
  REQUIRE(fz::toy2d_from_name("2spirals") == fz::Toy2D::Spirals);
  REQUIRE_THROWS_WITH(fz::toy2d_from_name("banana"), Catch::Contains("banana") && Catch::Contains("moons"));
  REQUIRE(fz::sample_toy2d<float>(fz::Toy2D::Moons, 0, 1).numel() == 0);
}

TEST_CASE("toy2d: moons follow BENCHMARKS.md (radius 1, shifted (1, 0.5), flipped, sd 0.05)", "[datasets][toy2d]") {
  const std::size_t n = 20000;
  fz::Tensor<double> p = fz::sample_toy2d<double>(fz::Toy2D::Moons, n, 3);
  // Upper moon mean (0, 2/pi), lower moon mean (1, 0.5 - 2/pi): overall (0.5, 0.25).
  Stats s = mean(p);
  CHECK(s.mx == Approx(0.5).margin(0.02));
  CHECK(s.my == Approx(0.25).margin(0.02));
  // Each point lies near its moon: the residual to the nearer half circle has sd ~0.05.
  std::size_t upper = 0;
  double sq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double x = p[2 * i], y = p[2 * i + 1];
    double d_upper = std::fabs(std::hypot(x, y) - 1.0);
    double d_lower = std::fabs(std::hypot(x - 1.0, y - 0.5) - 1.0);
    bool is_upper = d_upper < d_lower;
    upper += is_upper;
    double d = std::min(d_upper, d_lower);
    REQUIRE(d < 0.3);
    sq += d * d;
  }
  // Radial residual of 2-D noise with sd 0.05 has rms ~0.05 (a little less near the overlap).
  CHECK(std::sqrt(sq / n) == Approx(0.05).margin(0.01));
  CHECK(double(upper) / n == Approx(0.5).margin(0.03));
}

TEST_CASE("toy2d: the other densities have their defining geometry", "[datasets][toy2d]") {
  const std::size_t n = 20000;
  SECTION("circles: radii 3 and 1.5") {
    fz::Tensor<double> p = fz::sample_toy2d<double>(fz::Toy2D::Circles, n, 1);
    std::size_t outer = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double r = std::hypot(p[2 * i], p[2 * i + 1]);
      REQUIRE(std::min(std::fabs(r - 3.0), std::fabs(r - 1.5)) < 1.2);
      outer += r > 2.25;
    }
    CHECK(double(outer) / n == Approx(0.5).margin(0.03));
  }
  SECTION("8gaussians: 8 clusters at radius 4/1.414") {
    fz::Tensor<double> p = fz::sample_toy2d<double>(fz::Toy2D::EightGaussians, n, 1);
    std::vector<int> counts(8, 0);
    for (std::size_t i = 0; i < n; ++i) {
      double a = std::atan2(p[2 * i + 1], p[2 * i]);
      int k = static_cast<int>(std::lround(a / (M_PI / 4))) & 7;
      counts[static_cast<std::size_t>(k)]++;
    }
    for (int c : counts) CHECK(double(c) / n == Approx(0.125).margin(0.015));
    CHECK(mean(p).mx == Approx(0).margin(0.05));
  }
  SECTION("checkerboard: only the dark squares of a 4x4 board over [-4, 4]^2") {
    fz::Tensor<double> p = fz::sample_toy2d<double>(fz::Toy2D::Checkerboard, n, 1);
    for (std::size_t i = 0; i < n; ++i) {
      double x = p[2 * i] / 2, y = p[2 * i + 1] / 2;
      REQUIRE(x >= -2);
      REQUIRE(x < 2);
      REQUIRE(y >= -2);
      REQUIRE(y < 2);
      long parity = (static_cast<long>(std::floor(x)) + static_cast<long>(std::floor(y))) & 1;
      REQUIRE(parity == 0);
    }
  }
  SECTION("pinwheel, spirals, swissroll: centered and bounded") {
    for (fz::Toy2D k : {fz::Toy2D::Pinwheel, fz::Toy2D::Spirals}) {
      fz::Tensor<double> p = fz::sample_toy2d<double>(k, n, 1);
      Stats s = mean(p);
      CHECK(s.mx == Approx(0).margin(0.1));
      CHECK(s.my == Approx(0).margin(0.1));
      for (std::size_t i = 0; i < 2 * n; ++i) REQUIRE(std::fabs(p[i]) < 6);
    }
    fz::Tensor<double> p = fz::sample_toy2d<double>(fz::Toy2D::SwissRoll, n, 1);
    for (std::size_t i = 0; i < n; ++i) {
      double r = std::hypot(p[2 * i], p[2 * i + 1]);
      // t in [1.5 pi, 4.5 pi] -> radius t/5 in [0.94, 2.83], plus noise sd 0.2 per axis.
      REQUIRE(r < 2.83 + 1.2);
    }
  }
}
