// datasets/toy2d.hpp — toy 2-D densities for flows: samples as an (n, 2) tensor, seeded.
//
// moons        two interleaved half circles of radius 1: (cos t, sin t) and the flipped copy
//              shifted by (1, 0.5), i.e. (1 - cos t, 0.5 - sin t), t ~ U[0, pi]; each point
//              picks a moon with probability 1/2; Gaussian noise sd 0.05 (BENCHMARKS.md).
// The others follow the FFJORD toy-data definitions (scales of a few units):
// circles      two concentric circles, radii 3 and 1.5, noise sd 0.08*3.
// 8gaussians   8 Gaussians (sd 0.5/1.414) at radius 4/1.414 on the compass points.
// checkerboard uniform on the dark squares of a 4x4 board over [-4, 4]^2.
// pinwheel     5 curved arms (radial sd 0.3, tangential sd 0.1, rate 0.25), times 2.
// spirals      two interleaved spirals ("2spirals"), noise sd 0.1.
// swissroll    the (x, z) projection of a swiss roll (noise 1.0) divided by 5.
// Same (kind, n, seed) -> the same samples, on every platform (draws come from fz::Rng).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../tensor/tensor.hpp"

namespace fz {

enum class Toy2D { Moons, Circles, EightGaussians, Checkerboard, Pinwheel, Spirals, SwissRoll };

// "moons", "circles", "8gaussians", "checkerboard", "pinwheel", "spirals", "swissroll"
// (also "2spirals", "two_moons"); throws std::invalid_argument listing the valid names.
Toy2D toy2d_from_name(const std::string& name);
std::string toy2d_name(Toy2D kind);
std::vector<std::string> toy2d_names();

// n samples, shape (n, 2). T = float or double (the float version rounds the double one).
template <typename T>
Tensor<T> sample_toy2d(Toy2D kind, std::size_t n, std::uint64_t seed);

}  // namespace fz
