// autograd/ops_layout.cpp — forward and backward of the differentiable layout ops.
// A layout op's backward is another layout op, so most closures read the same in their
// first-order branch (g a Tensor) and their differentiable one (g a Var, see var.hpp): one
// expression serves both.
#include "autograd/ops_layout.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace fz {

template <typename T>
Var<T> reshape(const Var<T>& x, const Shape& shape) {
  // Same elements in the same order: the gradient is reshaped back.
  return record_op("reshape", x.value().reshape(shape), {x}, [x](const auto& g) {
    if (!x.requires_grad()) return;
    if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(g.reshape(x.shape()));
    else x.accumulate_grad(reshape(g, x.shape()));
  });
}

template <typename T>
Var<T> permute(const Var<T>& x, const std::vector<int>& axes) {
  Tensor<T> y = permute(x.value(), axes);
  // Gradient: permute back with the inverse permutation (inverse[axes[i]] = i).
  std::vector<int> inverse(axes.size());
  for (std::size_t i = 0; i < axes.size(); ++i)
    inverse[normalize_axis(axes[i], axes.size())] = static_cast<int>(i);
  return record_op("permute", std::move(y), {x}, [x, inverse](const auto& g) {
    if (x.requires_grad()) x.accumulate_grad(permute(g, inverse));
  });
}

template <typename T>
Var<T> transpose(const Var<T>& x, int axis_a, int axis_b) {
  // A swap is its own inverse.
  return record_op("transpose", transpose(x.value(), axis_a, axis_b), {x},
                   [x, axis_a, axis_b](const auto& g) {
                     if (x.requires_grad()) x.accumulate_grad(transpose(g, axis_a, axis_b));
                   });
}

template <typename T>
Var<T> slice(const Var<T>& x, int axis, long start, long stop) {
  Tensor<T> y = slice(x.value(), axis, start, stop);
  // Gradient: g in the sliced range, zeros elsewhere = g padded with zeros along `axis`.
  const std::size_t a = normalize_axis(axis, x.dim());
  const std::size_t n = x.shape()[a];
  const std::size_t b = static_cast<std::size_t>(start < 0 ? start + static_cast<long>(n) : start);
  PadWidths widths(x.dim() - a, {0, 0});
  widths[0] = {b, n - b - y.shape()[a]};
  return record_op("slice", std::move(y), {x}, [x, widths](const auto& g) {
    if (x.requires_grad()) x.accumulate_grad(pad(g, widths, T(0)));
  });
}

template <typename T>
Var<T> concat(const std::vector<Var<T>>& xs, int axis) {
  std::vector<Tensor<T>> values;
  values.reserve(xs.size());
  for (const Var<T>& x : xs) values.push_back(x.value());
  Tensor<T> y = concat(values, axis);
  const int a = static_cast<int>(normalize_axis(axis, y.dim()));
  // Gradient of each input: its own range of g along the axis.
  return record_op("concat", std::move(y), xs, [xs, a](const auto& g) {
    long start = 0;
    for (const Var<T>& x : xs) {
      const long len = static_cast<long>(x.shape()[static_cast<std::size_t>(a)]);
      if (x.requires_grad()) x.accumulate_grad(slice(g, a, start, start + len));
      start += len;
    }
  });
}

namespace {

// Shared by all pieces of one split. Every consumer of every piece was recorded after the
// pieces, so by the time the first piece node runs in the reverse pass all piece gradients
// have arrived; that node assembles the whole gradient of x once (missing ones as zeros) and
// the other piece nodes then do nothing. (A piece with no gradient is skipped by the tape.)
// A create_graph pass (autograd/grad.hpp) does the same with the pieces' Var gradients, which
// it keeps itself (GradRedirect::pending); `graph_pass` marks the pass that already did it.
template <typename T>
struct SplitState {
  std::vector<std::shared_ptr<detail::VarNode<T>>> pieces;
  bool done = false;
  std::uint64_t graph_pass = 0;
};

}  // namespace

template <typename T>
std::vector<Var<T>> split(const Var<T>& x, const std::vector<std::size_t>& sizes, int axis) {
  std::vector<Tensor<T>> parts = split(x.value(), sizes, axis);
  const int a = static_cast<int>(normalize_axis(axis, x.dim()));
  const bool record = should_record<T>({x});
  auto state = std::make_shared<SplitState<T>>();
  std::vector<Var<T>> out;
  out.reserve(parts.size());
  for (Tensor<T>& part : parts) {
    // Gradient of x: the piece gradients concatenated along the axis (zeros for unused ones).
    out.push_back(record_op_if(record, "split", std::move(part), [x, state, a](const auto& g) {
      if constexpr (is_first_order<decltype(g)>) {
        if (state->done) return;
        state->done = true;
        if (!x.requires_grad()) return;
        std::vector<Tensor<T>> grads;
        grads.reserve(state->pieces.size());
        for (const auto& piece : state->pieces)
          grads.push_back(piece->grad.defined() ? piece->grad : Tensor<T>(piece->value.shape()));
        x.accumulate_grad(concat(grads, a));
      } else {
        const detail::GradRedirect<T>* pass = detail::grad_redirect<T>();
        if (state->graph_pass == pass->pass_id) return;
        state->graph_pass = pass->pass_id;
        if (!x.requires_grad()) return;
        // This piece's gradient was handed over as g; the others are still in the pass's table.
        std::vector<Var<T>> grads;
        grads.reserve(state->pieces.size());
        for (const auto& piece : state->pieces) {
          Var<T> gp = piece == g.output().node() ? static_cast<const Var<T>&>(g) : pass->pending(piece.get());
          grads.push_back(gp.defined() ? gp : Var<T>(Tensor<T>(piece->value.shape())));
        }
        x.accumulate_grad(concat(grads, a));
      }
    }));
  }
  if (record)
    for (const Var<T>& v : out) state->pieces.push_back(v.node());
  return out;
}

template <typename T>
std::vector<Var<T>> chunk(const Var<T>& x, std::size_t n, int axis) {
  return split(x, chunk_sizes(x.shape()[normalize_axis(axis, x.dim())], n), axis);
}

template <typename T>
Var<T> pad(const Var<T>& x, const PadWidths& widths, T value) {
  // The padding is constant: the gradient is g with the padding cut off.
  return record_op("pad", pad(x.value(), widths, value), {x}, [x, widths](const auto& g) {
    if (!x.requires_grad()) return;
    if constexpr (is_first_order<decltype(g)>) {
      x.accumulate_grad(unpad(g, widths));
    } else {  // unpad as one slice per padded axis (widths cover the trailing axes)
      Var<T> cut = g;
      const std::size_t first = x.dim() - widths.size();
      for (std::size_t k = 0; k < widths.size(); ++k) {
        const long n = static_cast<long>(cut.shape()[first + k]);
        cut = slice(cut, static_cast<int>(first + k), static_cast<long>(widths[k].first),
                    n - static_cast<long>(widths[k].second));
      }
      x.accumulate_grad(cut);
    }
  });
}

template <typename T>
Var<T> pad2d(const Var<T>& x, std::size_t top, std::size_t bottom, std::size_t left,
             std::size_t right, T value) {
  if (x.dim() < 2)
    throw std::invalid_argument("pad2d: needs at least 2 axes, got shape " + shape_str(x.shape()));
  return pad(x, PadWidths{{top, bottom}, {left, right}}, value);
}

template <typename T>
Var<T> squeeze2d(const Var<T>& x) {
  // Inverse rearrangement: unsqueeze2d of the gradient.
  return record_op("squeeze2d", squeeze2d(x.value()), {x}, [x](const auto& g) {
    if (x.requires_grad()) x.accumulate_grad(unsqueeze2d(g));
  });
}

template <typename T>
Var<T> unsqueeze2d(const Var<T>& x) {
  // Inverse rearrangement: squeeze2d of the gradient.
  return record_op("unsqueeze2d", unsqueeze2d(x.value()), {x}, [x](const auto& g) {
    if (x.requires_grad()) x.accumulate_grad(squeeze2d(g));
  });
}

template <typename T>
Var<T> flip(const Var<T>& x, int axis) {
  // A reversal is its own inverse.
  return record_op("flip", flip(x.value(), axis), {x}, [x, axis](const auto& g) {
    if (x.requires_grad()) x.accumulate_grad(flip(g, axis));
  });
}

#define FZ_INSTANTIATE_OPS_LAYOUT(T)                                                         \
  template Var<T> reshape(const Var<T>&, const Shape&);                                      \
  template Var<T> permute(const Var<T>&, const std::vector<int>&);                           \
  template Var<T> transpose(const Var<T>&, int, int);                                        \
  template Var<T> slice(const Var<T>&, int, long, long);                                     \
  template Var<T> concat(const std::vector<Var<T>>&, int);                                   \
  template std::vector<Var<T>> split(const Var<T>&, const std::vector<std::size_t>&, int);   \
  template std::vector<Var<T>> chunk(const Var<T>&, std::size_t, int);                       \
  template Var<T> pad(const Var<T>&, const PadWidths&, T);                                   \
  template Var<T> pad2d(const Var<T>&, std::size_t, std::size_t, std::size_t, std::size_t, T); \
  template Var<T> squeeze2d(const Var<T>&);                                                  \
  template Var<T> unsqueeze2d(const Var<T>&);                                                \
  template Var<T> flip(const Var<T>&, int);

FZ_INSTANTIATE_OPS_LAYOUT(float)
FZ_INSTANTIATE_OPS_LAYOUT(double)

#undef FZ_INSTANTIATE_OPS_LAYOUT

}  // namespace fz
