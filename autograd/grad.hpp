// autograd/grad.hpp — gradients as values: grad() returns vector-Jacobian products as Vars,
// optionally as a differentiable computation (double backward), and hvp / jvp on top of it.
//
//   Var64 x(Tensor64(...), true);
//   Var64 y = sum(tanh(x) * tanh(x));
//   Var64 g = grad(y, x, Var64(), /*create_graph=*/true);   // dy/dx, recorded on the tape
//   Var64 s = sum(g * Var64(v));                            // v^T dy/dx
//   Tensor64 hv = grad(s, x).value();                       // H v
//
// The tape (autograd/tape.hpp, docs/how-the-tape-works.md "Double backward"):
// - create_graph = false runs every node's first-order closure, as backward() does, and then
//   clears the tape (the graph is consumed). Nothing's .grad changes: the gradients of the
//   inputs are returned instead (as constant Vars), other leaves' gradients are dropped.
// - create_graph = true runs every node's differentiable entry (its backward written in Var
//   ops), which appends new nodes after the original ones, and does NOT clear the tape: the
//   original nodes stay alive because the new ones read their values (and their outputs,
//   like tanh's, are inputs of the new ones). The returned Vars are outputs of new nodes and
//   can be differentiated again with backward() or grad(); that pass, or any backward(),
//   consumes the whole tape, original nodes and new ones.
// - It throws std::logic_error naming the op when it reaches a node without a differentiable
//   entry (fused ops, conv, spline, ...). The tape is then left as it was plus some new nodes
//   nobody references: a first-order backward() of the original loss still works.
// Don't: keep the returned Vars across a backward() (they are stale afterwards, and using them
// as inputs throws), or run a second create_graph pass after a first-order one consumed the
// tape (run the forward again).
#pragma once

#include <functional>
#include <vector>

#include "var.hpp"

namespace fz {

// For each input x_k: sum over j of grad_outputs[j]^T d outputs[j] / d x_k, shaped like x_k,
// as a Var. grad_outputs: one per output (same shape), or empty for one-element outputs (then
// each is seeded with 1); with create_graph they may require grad themselves (the result is
// linear in them, see jvp). An input the outputs do not depend on gets a constant zero Var.
// Inputs may be leaves or op outputs of the current tape. Outputs that do not require grad
// contribute nothing.
template <typename T>
std::vector<Var<T>> grad(const std::vector<Var<T>>& outputs, const std::vector<Var<T>>& inputs,
                         const std::vector<Var<T>>& grad_outputs = {}, bool create_graph = false);

// One output and one input. grad_output undefined: a one-element output seeded with 1.
template <typename T>
Var<T> grad(const Var<T>& output, const Var<T>& input, const Var<T>& grad_output = Var<T>(),
            bool create_graph = false);

// The Hessian of a scalar f at x times v, by two reverse passes: H v = d/dx (v^T df/dx).
template <typename T>
Tensor<T> hvp(const std::function<Var<T>(const Var<T>&)>& f, const Tensor<T>& x,
              const Tensor<T>& v);

// The Jacobian of f at x times v (v shaped like x, the result like f(x)), by the double-VJP
// trick: g(u) = u^T J is linear in the cotangent u, so J v = d/du (g(u) . v), with u = 0.
template <typename T>
Tensor<T> jvp(const std::function<Var<T>(const Var<T>&)>& f, const Tensor<T>& x,
              const Tensor<T>& v);

}  // namespace fz
