// flows/energy_integral.hpp — log Z = log of the integral of exp(-U) over the plane, for the
// energies of flows/energies.hpp, by the midpoint rule on an n x n grid over [-8, 8]^2.
//
// Why that box: every target's mass outside it is below e^-30 (U1's ring has radius 2 and
// width 0.4; the walls of U2..U4 fall off with sd 0.5 beyond |z1| = 4; their z2 bands stay
// within |z2| < 6). Why the midpoint rule: the integrands are smooth and vanish at the box's
// edge, where the rule converges far faster than its nominal h^2 (the walls' kink in the second
// derivative is the roughest spot). At the default n = 2000 (h = 0.008) two grid sizes agree to
// far better than 1e-3 (tests/flows/test_energies.cpp checks 1000 against 2000), and U2..U4,
// whose z2 integral is a Gaussian's at every z1, match their closed forms
//   Z = (s_a + s_b) sqrt(2 pi) (8 + sqrt(2 pi) / 2)     (U2: one branch, s = 0.4; U3: 0.35 + 0.35;
//                                                        U4: 0.4 + 0.35),
// where 8 is the width of [-4, 4] and sqrt(2 pi)/2 the two walls' Gaussian tails of sd 0.5.
// The sum is taken as a log-sum-exp in double precision.
#pragma once

#include <cstddef>

#include "energies.hpp"

namespace fz {

constexpr double kEnergyBoxHalfWidth = 8.0;

// log Z of `e` on an n x n midpoint grid over [-half_width, half_width]^2 (n >= 2).
double energy_log_normalizer(Energy2D e, std::size_t n = 2000, double half_width = kEnergyBoxHalfWidth);

}  // namespace fz
