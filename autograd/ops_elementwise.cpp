// autograd/ops_elementwise.cpp — forward and backward of every elementwise differentiable op.
//
// Pattern: compute the value with the tensor kernel, then record the backward closure. The
// closure captures the input Vars (to accumulate into them, and to read their values) and any
// forward result it needs (e.g. y = e^x). Broadcast inputs get their gradient through sum_to.
// Ops with second derivatives write the closure as [..](const auto& g) with a first-order
// branch (g a Tensor, the code every training step runs) and a differentiable one (g an
// OutputGrad, a Var: the same derivative in Var ops, recorded by grad(..., create_graph =
// true), autograd/grad.hpp). Where both read the same, one expression serves both: sum_to,
// neg, mul_scalar have Tensor and Var forms. Piecewise-linear ops multiply g by their slope as
// a constant (their second derivative is 0 away from the kinks).
#include "autograd/ops_elementwise.hpp"

#include <utility>

#include "autograd/ops_index.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/broadcast.hpp"
#include "tensor/elementwise.hpp"

namespace fz {

namespace {
// The slope of a piecewise-linear op as a constant Var: its tensor backward applied to ones.
template <typename T, typename Backward>
Var<T> slope_of(const Var<T>& x, Backward backward) {
  return Var<T>(backward(Tensor<T>(x.shape(), T(1))));
}
}  // namespace

// ---- binary, with broadcasting -------------------------------------------------------------

template <typename T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
  // d(a+b)/da = 1, d(a+b)/db = 1
  return record_op("add", add(a.value(), b.value()), {a, b}, [a, b](const auto& g) {
    if (a.requires_grad()) a.accumulate_grad(sum_to(g, a.shape()));
    if (b.requires_grad()) b.accumulate_grad(sum_to(g, b.shape()));
  });
}

template <typename T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  // d(a-b)/da = 1, d(a-b)/db = -1
  return record_op("sub", sub(a.value(), b.value()), {a, b}, [a, b](const auto& g) {
    if (a.requires_grad()) a.accumulate_grad(sum_to(g, a.shape()));
    if (b.requires_grad()) b.accumulate_grad(neg(sum_to(g, b.shape())));
  });
}

template <typename T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  // d(ab)/da = b, d(ab)/db = a
  return record_op("mul", mul(a.value(), b.value()), {a, b}, [a, b](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) {
      if (a.requires_grad()) a.accumulate_grad(sum_to(mul(g, b.value()), a.shape()));
      if (b.requires_grad()) b.accumulate_grad(sum_to(mul(g, a.value()), b.shape()));
    } else {
      if (a.requires_grad()) a.accumulate_grad(sum_to(mul(g, b), a.shape()));
      if (b.requires_grad()) b.accumulate_grad(sum_to(mul(g, a), b.shape()));
    }
  });
}

template <typename T>
Var<T> div(const Var<T>& a, const Var<T>& b) {
  Tensor<T> y = div(a.value(), b.value());
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -y/b
  return record_op("div", y, {a, b}, [a, b, y](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) {
      if (a.requires_grad()) a.accumulate_grad(sum_to(div(g, b.value()), a.shape()));
      if (b.requires_grad()) {
        Tensor<T> gb = sum_to(div(mul(g, y), b.value()), b.shape());
        b.accumulate_grad(gb.unique() ? (scale_inplace(gb, T(-1)), std::move(gb)) : neg(gb));
      }
    } else {
      if (a.requires_grad()) a.accumulate_grad(sum_to(div(g, b), a.shape()));
      if (b.requires_grad()) b.accumulate_grad(neg(sum_to(div(mul(g, g.output()), b), b.shape())));
    }
  });
}

template <typename T>
Var<T> maximum(const Var<T>& a, const Var<T>& b) {
  // d max(a,b)/da = [a > b] (1/2 at ties), d/db = 1 - that
  return record_op("maximum", maximum(a.value(), b.value()), {a, b}, [a, b](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) {
      const Tensor<T> ga = mul(g, maximum_weight(a.value(), b.value()));
      if (a.requires_grad()) a.accumulate_grad(sum_to(ga, a.shape()));
      if (b.requires_grad()) b.accumulate_grad(sum_to(sub(g, ga), b.shape()));
    } else {  // the weight is piecewise constant
      const Var<T> ga = mul(g, Var<T>(maximum_weight(a.value(), b.value())));
      if (a.requires_grad()) a.accumulate_grad(sum_to(ga, a.shape()));
      if (b.requires_grad()) b.accumulate_grad(sum_to(sub(g, ga), b.shape()));
    }
  });
}

template <typename T>
Var<T> minimum(const Var<T>& a, const Var<T>& b) {
  // d min(a,b)/da = [a < b] (1/2 at ties), d/db = 1 - that
  return record_op("minimum", minimum(a.value(), b.value()), {a, b}, [a, b](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) {
      const Tensor<T> ga = mul(g, maximum_weight(b.value(), a.value()));
      if (a.requires_grad()) a.accumulate_grad(sum_to(ga, a.shape()));
      if (b.requires_grad()) b.accumulate_grad(sum_to(sub(g, ga), b.shape()));
    } else {  // the weight is piecewise constant
      const Var<T> ga = mul(g, Var<T>(maximum_weight(b.value(), a.value())));
      if (a.requires_grad()) a.accumulate_grad(sum_to(ga, a.shape()));
      if (b.requires_grad()) b.accumulate_grad(sum_to(sub(g, ga), b.shape()));
    }
  });
}

// ---- with a constant scalar ----------------------------------------------------------------

template <typename T>
Var<T> add_scalar(const Var<T>& x, type_identity_t<T> s) {
  // d(x+s)/dx = 1
  return record_op("add_scalar", add_scalar(x.value(), s), {x}, [x](const auto& g) { x.accumulate_grad(g); });
}

template <typename T>
Var<T> mul_scalar(const Var<T>& x, type_identity_t<T> s) {
  // d(xs)/dx = s
  return record_op("mul_scalar", mul_scalar(x.value(), s), {x},
                   [x, s](const auto& g) { x.accumulate_grad(mul_scalar(g, s)); });
}

template <typename T>
Var<T> rsub_scalar(type_identity_t<T> s, const Var<T>& x) {
  // d(s-x)/dx = -1
  return record_op("rsub_scalar", affine_scalar(x.value(), T(-1), s), {x},
                   [x](const auto& g) { x.accumulate_grad(neg(g)); });
}

template <typename T>
Var<T> rdiv_scalar(type_identity_t<T> s, const Var<T>& x) {
  Tensor<T> y = scalar_div(s, x.value());
  // d(s/x)/dx = -s/x^2 = -y/x
  return record_op("rdiv_scalar", y, {x}, [x, y](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) {
      Tensor<T> gx = div(mul(g, y), x.value());
      scale_inplace(gx, T(-1));
      x.accumulate_grad(std::move(gx));
    } else {
      x.accumulate_grad(neg(div(mul(g, g.output()), x)));
    }
  });
}

// ---- unary ---------------------------------------------------------------------------------

template <typename T>
Var<T> neg(const Var<T>& x) {
  // d(-x)/dx = -1
  return record_op("neg", neg(x.value()), {x}, [x](const auto& g) { x.accumulate_grad(neg(g)); });
}

template <typename T>
Var<T> exp(const Var<T>& x) {
  Tensor<T> y = exp(x.value());
  // d e^x/dx = e^x
  return record_op("exp", y, {x}, [x, y](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(mul(g, y));
    else x.accumulate_grad(mul(g, g.output()));
  });
}

template <typename T>
Var<T> log(const Var<T>& x) {
  // d log x/dx = 1/x
  return record_op("log", log(x.value()), {x}, [x](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(div(g, x.value()));
    else x.accumulate_grad(div(g, x));
  });
}

template <typename T>
Var<T> log1p(const Var<T>& x) {
  // d log(1+x)/dx = 1/(1+x)
  return record_op("log1p", log1p(x.value()), {x},
                   [x](const auto& g) {
                     if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(log1p_backward(g, x.value()));
                     else x.accumulate_grad(div(g, add_scalar(x, T(1))));
                   });
}

template <typename T>
Var<T> sqrt(const Var<T>& x) {
  Tensor<T> y = sqrt(x.value());
  // d sqrt(x)/dx = 1/(2 sqrt(x))
  return record_op("sqrt", y, {x}, [x, y](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(sqrt_backward(g, y));
    else x.accumulate_grad(mul_scalar(div(g, g.output()), T(0.5)));
  });
}

template <typename T>
Var<T> pow(const Var<T>& x, type_identity_t<T> p) {
  // d x^p/dx = p x^(p-1)
  return record_op("pow", pow(x.value(), p), {x},
                   [x, p](const auto& g) {
                     if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(pow_backward(g, x.value(), p));
                     else x.accumulate_grad(mul_scalar(mul(g, pow(x, p - T(1))), p));
                   });
}

template <typename T>
Var<T> abs(const Var<T>& x) {
  // d|x|/dx = sign(x) (0 at 0)
  return record_op("abs", abs(x.value()), {x},
                   [x](const auto& g) {
                     if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(abs_backward(g, x.value()));
                     else x.accumulate_grad(mul(g, slope_of(x, [&](const Tensor<T>& one) { return abs_backward(one, x.value()); })));
                   });
}

template <typename T>
Var<T> square(const Var<T>& x) {
  // d x^2/dx = 2x
  return record_op("square", square(x.value()), {x},
                   [x](const auto& g) {
                     if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(pow_backward(g, x.value(), T(2)));
                     else x.accumulate_grad(mul_scalar(mul(g, x), T(2)));
                   });
}

template <typename T>
Var<T> tanh(const Var<T>& x) {
  Tensor<T> y = tanh(x.value());
  // d tanh(x)/dx = 1 - tanh(x)^2
  return record_op("tanh", y, {x}, [x, y](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(tanh_backward(g, y));
    else x.accumulate_grad(mul(g, rsub_scalar(T(1), square(g.output()))));
  });
}

template <typename T>
Var<T> sigmoid(const Var<T>& x) {
  Tensor<T> y = sigmoid(x.value());
  // d s(x)/dx = s(x) (1 - s(x))
  return record_op("sigmoid", y, {x}, [x, y](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(sigmoid_backward(g, y));
    else x.accumulate_grad(mul(g, mul(g.output(), rsub_scalar(T(1), g.output()))));
  });
}

template <typename T>
Var<T> logsigmoid(const Var<T>& x) {
  // d log s(x)/dx = 1 - s(x) = s(-x)
  return record_op("logsigmoid", logsigmoid(x.value()), {x},
                   [x](const auto& g) {
                     if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(logsigmoid_backward(g, x.value()));
                     else x.accumulate_grad(mul(g, sigmoid(neg(x))));
                   });
}

template <typename T>
Var<T> softplus(const Var<T>& x) {
  // d log(1+e^x)/dx = s(x)
  return record_op("softplus", softplus(x.value()), {x},
                   [x](const auto& g) {
                     if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(softplus_backward(g, x.value()));
                     else x.accumulate_grad(mul(g, sigmoid(x)));
                   });
}

template <typename T>
Var<T> relu(const Var<T>& x) {
  // d relu(x)/dx = [x > 0]
  return record_op("relu", relu(x.value()), {x},
                   [x](const auto& g) {
                     if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(relu_backward(g, x.value()));
                     else x.accumulate_grad(mul(g, slope_of(x, [&](const Tensor<T>& one) { return relu_backward(one, x.value()); })));
                   });
}

template <typename T>
Var<T> leaky_relu(const Var<T>& x, type_identity_t<T> slope) {
  // d/dx = 1 for x > 0, slope otherwise
  return record_op("leaky_relu", leaky_relu(x.value(), slope), {x}, [x, slope](const auto& g) {
    if constexpr (is_first_order<decltype(g)>)
      x.accumulate_grad(leaky_relu_backward(g, x.value(), slope));
    else
      x.accumulate_grad(mul(g, slope_of(x, [&](const Tensor<T>& one) { return leaky_relu_backward(one, x.value(), slope); })));
  });
}

template <typename T>
Var<T> elu(const Var<T>& x, type_identity_t<T> alpha) {
  Tensor<T> y = elu(x.value(), alpha);
  // d/dx = 1 for x > 0, alpha e^x = y + alpha otherwise
  return record_op("elu", y, {x}, [x, y, alpha](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) {
      x.accumulate_grad(elu_backward(g, x.value(), y, alpha));
    } else {  // g where x > 0, g (y + alpha) elsewhere (selected, so no 0 * inf)
      const Tensor<T> positive = relu_backward(Tensor<T>(x.shape(), T(1)), x.value());
      x.accumulate_grad(where(positive, static_cast<const Var<T>&>(g), mul(g, add_scalar(g.output(), alpha))));
    }
  });
}

template <typename T>
Var<T> clamp(const Var<T>& x, type_identity_t<T> lo, type_identity_t<T> hi) {
  // d clamp(x)/dx = [lo <= x <= hi]
  return record_op("clamp", clamp(x.value(), lo, hi), {x}, [x, lo, hi](const auto& g) {
    if constexpr (is_first_order<decltype(g)>)
      x.accumulate_grad(clamp_backward(g, x.value(), lo, hi));
    else
      x.accumulate_grad(mul(g, slope_of(x, [&](const Tensor<T>& one) { return clamp_backward(one, x.value(), lo, hi); })));
  });
}

#define FZ_OPS_EW_INSTANTIATE(T)                                   \
  template Var<T> add(const Var<T>&, const Var<T>&);               \
  template Var<T> sub(const Var<T>&, const Var<T>&);               \
  template Var<T> mul(const Var<T>&, const Var<T>&);               \
  template Var<T> div(const Var<T>&, const Var<T>&);               \
  template Var<T> maximum(const Var<T>&, const Var<T>&);           \
  template Var<T> minimum(const Var<T>&, const Var<T>&);           \
  template Var<T> add_scalar(const Var<T>&, T);                    \
  template Var<T> mul_scalar(const Var<T>&, T);                    \
  template Var<T> rsub_scalar(T, const Var<T>&);                   \
  template Var<T> rdiv_scalar(T, const Var<T>&);                   \
  template Var<T> neg(const Var<T>&);                              \
  template Var<T> exp(const Var<T>&);                              \
  template Var<T> log(const Var<T>&);                              \
  template Var<T> log1p(const Var<T>&);                            \
  template Var<T> sqrt(const Var<T>&);                             \
  template Var<T> pow(const Var<T>&, T);                           \
  template Var<T> abs(const Var<T>&);                              \
  template Var<T> square(const Var<T>&);                           \
  template Var<T> tanh(const Var<T>&);                             \
  template Var<T> sigmoid(const Var<T>&);                          \
  template Var<T> logsigmoid(const Var<T>&);                       \
  template Var<T> softplus(const Var<T>&);                         \
  template Var<T> relu(const Var<T>&);                             \
  template Var<T> leaky_relu(const Var<T>&, T);                    \
  template Var<T> elu(const Var<T>&, T);                           \
  template Var<T> clamp(const Var<T>&, T, T);

FZ_OPS_EW_INSTANTIATE(float)
FZ_OPS_EW_INSTANTIATE(double)
#undef FZ_OPS_EW_INSTANTIATE

}  // namespace fz
