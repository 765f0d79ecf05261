// tensor/random.cpp — xoshiro256** generator, scalar and tensor draws, state save/restore.
#include "tensor/random.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fz {

namespace {

__extension__ typedef unsigned __int128 u128;  // GCC/Clang; the high word of a 64x64 product

constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr double kTwoPow53Inv = 1.0 / 9007199254740992.0;  // 2^-53

// splitmix64: turns any 64-bit seed (even 0 or 1, 2, 3...) into well-mixed words. The
// recommended way to seed xoshiro, which must not start from an all-zero state.
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

std::uint64_t double_bits(double d) {
  std::uint64_t u;
  static_assert(sizeof(u) == sizeof(d), "double must be 64 bits");
  std::memcpy(&u, &d, sizeof(u));
  return u;
}

double bits_double(std::uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof(d));
  return d;
}

}  // namespace

Rng::Rng(std::uint64_t seed, std::uint64_t stream) {
  // The stream number is mixed into the seed through its own splitmix64 round, so (seed, 1)
  // and (seed + 1, 0) do not share a sequence.
  std::uint64_t st = stream;
  std::uint64_t x = seed ^ splitmix64(st);
  for (auto& w : s_) w = splitmix64(x);
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;  // practically impossible, but illegal
}

std::uint64_t Rng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

Rng Rng::split() {
  // Two fresh outputs of the parent seed the child as (seed, stream): the child's sequence is
  // a different splitmix64-derived state, not a shifted copy of the parent's.
  const std::uint64_t a = next_u64();
  const std::uint64_t b = next_u64();
  return Rng(a, b);
}

double Rng::uniform(double lo, double hi) {
  const double u = static_cast<double>(next_u64() >> 11) * kTwoPow53Inv;  // [0, 1)
  const double v = lo + (hi - lo) * u;
  return v < hi ? v : std::nextafter(hi, lo);  // rounding could otherwise reach hi
}

double Rng::open_unit() {
  // (k + 0.5) / 2^53 for k in [0, 2^53): strictly inside (0, 1).
  return (static_cast<double>(next_u64() >> 11) + 0.5) * kTwoPow53Inv;
}

double Rng::normal(double mean, double sd) {
  if (has_spare_) {
    has_spare_ = false;
    return mean + sd * spare_;
  }
  // Box-Muller: r = sqrt(-2 ln u1), angle 2 pi u2 gives two independent N(0, 1).
  const double r = std::sqrt(-2.0 * std::log(open_unit()));
  const double theta = kTwoPi * open_unit();
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return mean + sd * (r * std::cos(theta));
}

double Rng::logistic() {
  // Inverse CDF of the logistic: F^-1(u) = log(u / (1 - u)).
  const double u = open_unit();
  return std::log(u) - std::log1p(-u);
}

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) throw std::invalid_argument("Rng::below: n must be positive");
  // Lemire: the high word of x * n is uniform in [0, n) once the few biased low words are
  // rejected (threshold = 2^64 mod n).
  u128 m = static_cast<u128>(next_u64()) * n;
  std::uint64_t low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<u128>(next_u64()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

bool Rng::bernoulli(double p) { return uniform() < p; }

template <typename T>
void Rng::fill_uniform(Tensor<T>& t, std::common_type_t<T> lo, std::common_type_t<T> hi) {
  if (!(lo < hi))
    throw std::invalid_argument("Rng::uniform: need lo < hi, got lo = " + std::to_string(lo) +
                                ", hi = " + std::to_string(hi));
  T* p = t.data();
  const std::size_t n = t.numel();
  const double dlo = lo, width = static_cast<double>(hi) - static_cast<double>(lo);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(next_u64() >> 11) * kTwoPow53Inv;
    const T v = static_cast<T>(dlo + width * u);
    p[i] = v < hi ? v : std::nextafter(hi, lo);  // the cast to float may round up to hi
  }
}

template <typename T>
void Rng::fill_normal(Tensor<T>& t, std::common_type_t<T> mean, std::common_type_t<T> sd) {
  T* p = t.data();
  const std::size_t n = t.numel();
  // Both values of each Box-Muller pair are used; an odd last element drops its partner.
  for (std::size_t i = 0; i < n; i += 2) {
    const double r = std::sqrt(-2.0 * std::log(open_unit()));
    const double theta = kTwoPi * open_unit();
    p[i] = static_cast<T>(mean + sd * (r * std::cos(theta)));
    if (i + 1 < n) p[i + 1] = static_cast<T>(mean + sd * (r * std::sin(theta)));
  }
}

template <typename T>
void Rng::fill_logistic(Tensor<T>& t) {
  T* p = t.data();
  const std::size_t n = t.numel();
  for (std::size_t i = 0; i < n; ++i) {
    const double u = open_unit();
    p[i] = static_cast<T>(std::log(u) - std::log1p(-u));
  }
}

template <typename T>
Tensor<T> Rng::uniform(const Shape& shape, std::common_type_t<T> lo, std::common_type_t<T> hi) {
  Tensor<T> t = Tensor<T>::empty(shape);
  fill_uniform(t, lo, hi);
  return t;
}

template <typename T>
Tensor<T> Rng::normal(const Shape& shape, std::common_type_t<T> mean, std::common_type_t<T> sd) {
  Tensor<T> t = Tensor<T>::empty(shape);
  fill_normal(t, mean, sd);
  return t;
}

template <typename T>
Tensor<T> Rng::logistic(const Shape& shape) {
  Tensor<T> t = Tensor<T>::empty(shape);
  fill_logistic(t);
  return t;
}

std::vector<std::size_t> Rng::permutation(std::size_t n) {
  std::vector<std::size_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = i;
  // Fisher-Yates: position i takes a uniformly chosen element of the not-yet-placed p[0..i].
  for (std::size_t i = n; i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(below(i));
    std::swap(p[i - 1], p[j]);
  }
  return p;
}

std::vector<std::uint64_t> Rng::state() const {
  return {s_[0], s_[1], s_[2], s_[3], has_spare_ ? 1u : 0u, double_bits(spare_)};
}

void Rng::set_state(const std::vector<std::uint64_t>& state) {
  if (state.size() != 6)
    throw std::invalid_argument("Rng::set_state: expected 6 words, got " +
                                std::to_string(state.size()));
  if ((state[0] | state[1] | state[2] | state[3]) == 0)
    throw std::invalid_argument("Rng::set_state: the four generator words are all zero "
                                "(not a state this generator can be in)");
  if (state[4] > 1)
    throw std::invalid_argument("Rng::set_state: word 4 (spare-normal flag) must be 0 or 1, got " +
                                std::to_string(state[4]));
  for (int i = 0; i < 4; ++i) s_[i] = state[i];
  has_spare_ = state[4] == 1;
  spare_ = bits_double(state[5]);
}

std::string Rng::state_string() const {
  std::string out;
  char buf[20];
  for (std::uint64_t w : state()) {
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(w));
    if (!out.empty()) out += ' ';
    out += buf;
  }
  return out;
}

void Rng::set_state_string(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::uint64_t> words;
  std::string tok;
  while (in >> tok) {
    std::size_t used = 0;
    unsigned long long w = 0;
    try {
      w = std::stoull(tok, &used, 16);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != tok.size() || tok.size() > 16)
      throw std::invalid_argument("Rng::set_state_string: '" + tok +
                                  "' is not a 64-bit hexadecimal word");
    words.push_back(w);
  }
  set_state(words);
}

template Tensor<float> Rng::uniform<float>(const Shape&, float, float);
template Tensor<double> Rng::uniform<double>(const Shape&, double, double);
template Tensor<float> Rng::normal<float>(const Shape&, float, float);
template Tensor<double> Rng::normal<double>(const Shape&, double, double);
template Tensor<float> Rng::logistic<float>(const Shape&);
template Tensor<double> Rng::logistic<double>(const Shape&);
template void Rng::fill_uniform<float>(Tensor<float>&, float, float);
template void Rng::fill_uniform<double>(Tensor<double>&, double, double);
template void Rng::fill_normal<float>(Tensor<float>&, float, float);
template void Rng::fill_normal<double>(Tensor<double>&, double, double);
template void Rng::fill_logistic<float>(Tensor<float>&);
template void Rng::fill_logistic<double>(Tensor<double>&);

}  // namespace fz
