// autograd/ops_select_channels.hpp — y = x's channels (axis 1) in a given order: a channel
// permutation (flows/bijectors/permutation.hpp) or one half of a coupling's split
// (Partition::conditioning_part), as one copy per (sample, channel) run; and its plain form.
#pragma once

#include <cstddef>
#include <vector>

#include "var.hpp"

namespace fz {

// y[b, j, ...] = x[b, channels[j], ...] for x (B, C, ...); channels distinct and < C (any
// number of them). dL/dx[b, channels[j], ...] = G[b, j, ...], zero on channels not selected.
// `op` names the tape node and the errors (a string literal: the tape keeps the pointer).
// Throws std::invalid_argument naming `op` for a bad channel list.
template <typename T>
Var<T> select_channels(const Var<T>& x, const std::vector<std::size_t>& channels,
                       const char* op = "select_channels");

// The plain form: concat of the one-channel slices x[:, c:c+1] in order (what reference_ops()
// runs; tests/autograd/test_reference_ops.cpp holds the two equal).
template <typename T>
Var<T> select_channels_reference(const Var<T>& x, const std::vector<std::size_t>& channels,
                                 const char* op = "select_channels");

}  // namespace fz
