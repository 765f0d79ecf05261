// autograd/nn/non_finite_scan.hpp — the one scan for NaN and infinity in a StateDict (a model's
// parameters and buffers, an optimiser's moments, Polyak shadows). Used before a checkpoint is
// written (cli/finite_state.cpp) and before a training state is kept as the rollback point of
// divergence recovery (flows/train_snapshot.cpp): neither may ever hold a non-finite value.
#pragma once

#include <string>

#include "module.hpp"

namespace fz {

// Empty when every value of `state` is finite; otherwise names the first offender as
// "<prefix><entry name> holds <value> (element <flat index>)", e.g. "model.flow.0.scale holds
// nan (element 3)".
template <typename T>
std::string first_non_finite(const StateDict<T>& state, const std::string& prefix = "");

extern template std::string first_non_finite<float>(const StateDict<float>&, const std::string&);
extern template std::string first_non_finite<double>(const StateDict<double>&, const std::string&);

}  // namespace fz
