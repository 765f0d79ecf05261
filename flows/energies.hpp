// flows/energies.hpp — the four unnormalised 2-D target densities p(z) = exp(-U(z)) / Z of
// Rezende & Mohamed (2015), Table 1, for fitting a flow by variational inference
// (flows/reverse_kl.hpp, `flowzoo fit`). With w1 = sin(2 pi z1 / 4), w2 = 3 exp(-((z1 - 1)/0.6)^2 / 2),
// w3 = 3 sigmoid((z1 - 1)/0.3):
//   U1 = ((|z| - 2)/0.4)^2 / 2 - log(exp(-((z1 - 2)/0.6)^2 / 2) + exp(-((z1 + 2)/0.6)^2 / 2))
//   U2 = ((z2 - w1)/0.4)^2 / 2                                                      + wall(z1)
//   U3 = -log(exp(-((z2 - w1)/0.35)^2 / 2) + exp(-((z2 - w1 + w2)/0.35)^2 / 2))    + wall(z1)
//   U4 = -log(exp(-((z2 - w1)/0.4)^2 / 2) + exp(-((z2 - w1 + w3)/0.35)^2 / 2))     + wall(z1)
//
// CONFINEMENT. U2, U3 and U4 as the table gives them do not grow along z1 (exp(-U) is a
// periodic ribbon of infinite mass), so they have no normaliser and no KL. Each gets the soft
// wall  wall(z1) = 2 max(|z1| - 4, 0)^2, i.e. a Gaussian fall-off of standard deviation 0.5
// beyond |z1| = 4: the density inside [-4, 4] (the paper's pictures) is unchanged, and the
// target is proper. U1 decays in every direction already and has no wall.
//
// Each is a differentiable op on the tape (first derivatives, from the closed-form gradient:
// sin has no op of its own), checked against central differences in tests/flows/test_energies.cpp.
// Its log-normaliser is flows/energy_integral.hpp.
#pragma once

#include <string>
#include <vector>

#include "../autograd/var.hpp"

namespace fz {

enum class Energy2D { kU1, kU2, kU3, kU4 };

// "u1" ... "u4" (case as written); throws std::invalid_argument naming the valid ones.
Energy2D energy_from_name(const std::string& name);
std::string energy_name(Energy2D e);
std::vector<std::string> energy_names();

// U(z1, z2) in double, wall included; with `grad` (two doubles) also dU/dz1, dU/dz2.
double energy_at(Energy2D e, double z1, double z2, double* grad = nullptr);

// U of each row of a (B, 2) batch: shape (B,), differentiable with respect to z.
template <typename T>
Var<T> energy(Energy2D e, const Var<T>& z);

extern template Var<float> energy<float>(Energy2D, const Var<float>&);
extern template Var<double> energy<double>(Energy2D, const Var<double>&);

}  // namespace fz
