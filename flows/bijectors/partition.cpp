// flows/bijectors/partition.cpp — even/odd, channel-half and checkerboard partitions.
#include "flows/bijectors/partition.hpp"

#include <algorithm>
#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_select_channels.hpp"
#include "flows/channel_split.hpp"

namespace fz {

std::string partition_name(PartitionKind kind) {
  switch (kind) {
    case PartitionKind::EvenOdd: return "even/odd";
    case PartitionKind::ChannelHalves: return "channel halves";
    case PartitionKind::Checkerboard: return "checkerboard";
  }
  return "?";
}

std::string Partition::name() const {
  return partition_name(kind) + "(parity " + (parity ? "1" : "0") + ")";
}

std::size_t Partition::conditioner_in_channels(std::size_t channels) const {
  return kind == PartitionKind::Checkerboard ? channels + 1 : channels / 2;
}

std::size_t Partition::transformed_channels(std::size_t channels) const {
  return kind == PartitionKind::Checkerboard ? channels : channels / 2;
}

void Partition::check_shape(const Shape& s, const char* who) const {
  bool ok = false;
  switch (kind) {
    case PartitionKind::EvenOdd: ok = s.size() == 2 && s[1] % 2 == 0 && s[1] > 0; break;
    case PartitionKind::ChannelHalves: ok = s.size() >= 2 && s[1] % 2 == 0 && s[1] > 0; break;
    case PartitionKind::Checkerboard: ok = s.size() == 4; break;
  }
  if (!ok) {
    const char* want = kind == PartitionKind::EvenOdd         ? "(B, D) with D even"
                       : kind == PartitionKind::ChannelHalves ? "(B, C, ...) with C even"
                                                              : "(B, C, H, W)";
    throw std::invalid_argument(std::string(who) + ": " + name() + " partition needs " + want +
                                ", got " + shape_str(s));
  }
}

template <typename T>
std::pair<Var<T>, Var<T>> Partition::split(const Var<T>& x) const {
  std::pair<Var<T>, Var<T>> parts;
  if (kind == PartitionKind::EvenOdd)
    parts = interleaved_channels(x);
  else if (kind == PartitionKind::ChannelHalves)
    parts = channel_halves(x);
  else
    throw std::logic_error("Partition::split: a checkerboard partition is a mask, not a split");
  if (parity) std::swap(parts.first, parts.second);
  return parts;
}

template <typename T>
Var<T> Partition::merge(const Var<T>& a, const Var<T>& b) const {
  const Var<T>& first = parity ? b : a;
  const Var<T>& second = parity ? a : b;
  if (kind == PartitionKind::EvenOdd) return merge_interleaved_channels(first, second);
  if (kind == PartitionKind::ChannelHalves) return merge_channel_halves(first, second);
  throw std::logic_error("Partition::merge: a checkerboard partition is a mask, not a split");
}

std::size_t Partition::conditioning_channel(std::size_t j, std::size_t channels) const {
  if (kind == PartitionKind::EvenOdd) return 2 * j + (parity ? 1 : 0);
  if (kind == PartitionKind::ChannelHalves) return parity ? channels / 2 + j : j;
  throw std::logic_error("Partition::conditioning_channel: a checkerboard partition is a mask");
}

std::size_t Partition::transformed_channel(std::size_t j, std::size_t channels) const {
  if (kind == PartitionKind::EvenOdd) return 2 * j + (parity ? 0 : 1);
  if (kind == PartitionKind::ChannelHalves) return parity ? j : channels / 2 + j;
  throw std::logic_error("Partition::transformed_channel: a checkerboard partition is a mask");
}

// a[n, j, r] = x[n, conditioning_channel(j), r] (autograd/ops_select_channels.hpp: one copy
// per channel run, the plain slice-and-concat under reference_ops()).
template <typename T>
Var<T> Partition::conditioning_part(const Var<T>& x) const {
  if (is_masked())
    throw std::logic_error("Partition::conditioning_part: a checkerboard partition is a mask");
  const std::size_t c = x.shape().at(1), k = c / 2;
  std::vector<std::size_t> channels(k);
  for (std::size_t j = 0; j < k; ++j) channels[j] = conditioning_channel(j, c);
  return select_channels(x, channels, "partition_gather");
}

template <typename T>
Tensor<T> Partition::mask(std::size_t height, std::size_t width) const {
  Tensor<T> m({1, 1, height, width});
  const std::size_t on = parity ? 1 : 0;
  for (std::size_t i = 0; i < height; ++i)
    for (std::size_t j = 0; j < width; ++j) m[i * width + j] = ((i + j) % 2 == on) ? T(1) : T(0);
  return m;
}

template <typename T>
Var<T> Partition::masked_conditioner_input(const Var<T>& x, const Tensor<T>& m) const {
  const Shape& s = x.shape();
  // The mask as an extra input channel tells the network which pixels it is looking at.
  Tensor<T> mask_channel = Tensor<T>::empty({s[0], 1, s[2], s[3]});
  const std::size_t hw = s[2] * s[3];
  for (std::size_t b = 0; b < s[0]; ++b) std::copy(m.begin(), m.end(), mask_channel.begin() + b * hw);
  return concat(std::vector<Var<T>>{x * Var<T>(m), Var<T>(std::move(mask_channel))}, 1);
}

#define FZ_INSTANTIATE(T)                                                                        \
  template std::pair<Var<T>, Var<T>> Partition::split<T>(const Var<T>&) const;                   \
  template Var<T> Partition::merge<T>(const Var<T>&, const Var<T>&) const;                       \
  template Var<T> Partition::conditioning_part<T>(const Var<T>&) const;                          \
  template Tensor<T> Partition::mask<T>(std::size_t, std::size_t) const;                         \
  template Var<T> Partition::masked_conditioner_input<T>(const Var<T>&, const Tensor<T>&) const;
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
