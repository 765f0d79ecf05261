// autograd/ops_select_channels.cpp — select_channels (a gather of whole channel runs forward,
// the scatter back) and its plain form from slice and concat.
#include "autograd/ops_select_channels.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "autograd/ops_layout.hpp"
#include "tensor/copy_run.hpp"
#include "tensor/reference_mode.hpp"

namespace fz {

namespace {

void check_channels(const Shape& s, const std::vector<std::size_t>& channels, const char* op) {
  if (s.size() < 2)
    throw std::invalid_argument(std::string(op) + ": needs an input (B, C, ...), got " + shape_str(s));
  std::vector<bool> seen(s[1], false);
  for (std::size_t c : channels) {
    if (c >= s[1] || seen[c])
      throw std::invalid_argument(std::string(op) + ": channel list must hold distinct channels below " +
                                  std::to_string(s[1]) + " of an input " + shape_str(s) + ", got channel " +
                                  std::to_string(c) + (c < s[1] ? " twice" : ""));
    seen[c] = true;
  }
  if (channels.empty()) throw std::invalid_argument(std::string(op) + ": no channels selected");
}

}  // namespace

template <typename T>
Var<T> select_channels(const Var<T>& x, const std::vector<std::size_t>& channels, const char* op) {
  if (reference_ops()) return select_channels_reference(x, channels, op);
  const Shape& s = x.shape();
  check_channels(s, channels, op);
  const std::size_t n = s[0], c = s[1], k = channels.size();
  const std::size_t inner = n * c == 0 ? 0 : shape_numel(s) / (n * c);
  Shape ys = s;
  ys[1] = k;
  Tensor<T> y = Tensor<T>::empty(ys);
  const T* xv = x.value().data();
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t j = 0; j < k; ++j)
      copy_run(xv + (b * c + channels[j]) * inner, inner, y.data() + (b * k + j) * inner);
  return record_op(op, std::move(y), {x}, [x, channels, n, c, k, inner](const Tensor<T>& g) {
    // Every channel is written when all are selected (a permutation); else the rest stay 0.
    Tensor<T> dx = k == c ? Tensor<T>::empty(x.value().shape()) : Tensor<T>(x.value().shape());
    for (std::size_t b = 0; b < n; ++b)
      for (std::size_t j = 0; j < k; ++j)
        copy_run(g.data() + (b * k + j) * inner, inner, dx.data() + (b * c + channels[j]) * inner);
    x.accumulate_grad(std::move(dx));
  });
}

template <typename T>
Var<T> select_channels_reference(const Var<T>& x, const std::vector<std::size_t>& channels,
                                 const char* op) {
  check_channels(x.shape(), channels, op);
  std::vector<Var<T>> parts;
  for (std::size_t ch : channels) parts.push_back(slice(x, 1, long(ch), long(ch) + 1));
  return parts.size() == 1 ? parts[0] : concat(parts, 1);
}

template Var<float> select_channels(const Var<float>&, const std::vector<std::size_t>&, const char*);
template Var<double> select_channels(const Var<double>&, const std::vector<std::size_t>&, const char*);
template Var<float> select_channels_reference(const Var<float>&, const std::vector<std::size_t>&,
                                              const char*);
template Var<double> select_channels_reference(const Var<double>&, const std::vector<std::size_t>&,
                                               const char*);

}  // namespace fz
