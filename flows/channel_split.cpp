// flows/channel_split.cpp — channel halves and even/odd channels via reshape, slice and concat.
#include "flows/channel_split.hpp"

#include <stdexcept>

#include "autograd/ops_layout.hpp"

namespace fz {

namespace {
std::size_t even_channels(const Shape& s, const char* what) {
  if (s.size() < 2 || s[1] % 2 != 0)
    throw std::invalid_argument(std::string(what) + ": needs an even number of channels on axis 1, got shape " +
                                shape_str(s));
  return s[1];
}
}  // namespace

template <typename T>
std::pair<Var<T>, Var<T>> channel_halves(const Var<T>& x) {
  const long c = static_cast<long>(even_channels(x.shape(), "channel_halves"));
  return {slice(x, 1, 0, c / 2), slice(x, 1, c / 2, c)};
}

template <typename T>
Var<T> merge_channel_halves(const Var<T>& a, const Var<T>& b) {
  return concat(std::vector<Var<T>>{a, b}, 1);
}

template <typename T>
std::pair<Var<T>, Var<T>> interleaved_channels(const Var<T>& x) {
  const Shape s = x.shape();
  const std::size_t c = even_channels(s, "interleaved_channels");
  // (B, C, rest...) -> (B, C/2, 2, rest...): channel 2k + j sits at [k, j].
  Shape paired = {s[0], c / 2, 2};
  paired.insert(paired.end(), s.begin() + 2, s.end());
  Shape half = s;
  half[1] = c / 2;
  Var<T> p = reshape(x, paired);
  return {reshape(slice(p, 2, 0, 1), half), reshape(slice(p, 2, 1, 2), half)};
}

template <typename T>
Var<T> merge_interleaved_channels(const Var<T>& even, const Var<T>& odd) {
  const Shape s = even.shape();
  Shape one = {s[0], s[1], 1};
  one.insert(one.end(), s.begin() + 2, s.end());
  Shape full = s;
  full[1] = 2 * s[1];
  return reshape(concat(std::vector<Var<T>>{reshape(even, one), reshape(odd, one)}, 2), full);
}

#define FZ_INSTANTIATE(T)                                                              \
  template std::pair<Var<T>, Var<T>> channel_halves<T>(const Var<T>&);                 \
  template Var<T> merge_channel_halves<T>(const Var<T>&, const Var<T>&);               \
  template std::pair<Var<T>, Var<T>> interleaved_channels<T>(const Var<T>&);           \
  template Var<T> merge_interleaved_channels<T>(const Var<T>&, const Var<T>&);
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
