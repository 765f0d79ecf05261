// tensor/random.hpp — fz::Rng, the explicit seeded random number generator.
//
// There is no global random state anywhere in flowzoo: whoever needs randomness (initialisers,
// dequantization noise, shuffling, sampling) is handed an Rng. The generator is xoshiro256**
// (Blackman & Vigna), seeded through splitmix64; it is small, fast, and its whole state is four
// 64-bit words, so a checkpoint can store it and a resumed run continues the exact sequence.
//
// Independent streams: Rng(seed, stream) derives a statistically unrelated generator for every
// (seed, stream) pair — e.g. one per data-loader worker or per epoch — and split() forks a child
// generator from a parent deterministically (the parent advances, so repeated splits differ).
//
// Same seed (and stream) -> same sequence, on every platform: the floating-point draws use only
// IEEE operations and std::log/sqrt/sin/cos, never std::*_distribution (whose output differs
// between standard libraries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "tensor.hpp"

namespace fz {

class Rng {
 public:
  // Also a C++ UniformRandomBitGenerator, so std::shuffle etc. accept it.
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  explicit Rng(std::uint64_t seed = 0, std::uint64_t stream = 0);

  // Next raw 64 random bits.
  std::uint64_t next_u64();
  result_type operator()() { return next_u64(); }

  // A new, independent generator forked from this one (advances this generator).
  Rng split();

  // ---- scalars (double precision) ----
  // Uniform in [lo, hi).
  double uniform(double lo = 0.0, double hi = 1.0);
  // Gaussian N(mean, sd^2) (Box-Muller; the second value of each pair is kept for the next call).
  double normal(double mean = 0.0, double sd = 1.0);
  // Standard logistic (location 0, scale 1): log(u / (1 - u)), variance pi^2 / 3.
  double logistic();
  // Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). Throws if n == 0.
  std::uint64_t below(std::uint64_t n);
  // True with probability p.
  bool bernoulli(double p);

  // ---- tensors (T = float or double); fill_* write into an existing buffer ----
  // The value parameters are non-deduced, so write rng.normal<float>(shape) / rng.uniform<double>(...).
  template <typename T>
  Tensor<T> uniform(const Shape& shape, std::common_type_t<T> lo = T(0), std::common_type_t<T> hi = T(1));
  template <typename T>
  Tensor<T> normal(const Shape& shape, std::common_type_t<T> mean = T(0), std::common_type_t<T> sd = T(1));
  template <typename T>
  Tensor<T> logistic(const Shape& shape);

  template <typename T>
  void fill_uniform(Tensor<T>& t, std::common_type_t<T> lo = T(0), std::common_type_t<T> hi = T(1));
  template <typename T>
  void fill_normal(Tensor<T>& t, std::common_type_t<T> mean = T(0), std::common_type_t<T> sd = T(1));
  template <typename T>
  void fill_logistic(Tensor<T>& t);

  // A uniformly random permutation of 0..n-1 (Fisher-Yates).
  std::vector<std::size_t> permutation(std::size_t n);

  // ---- state, for checkpoints: restoring it makes the generator continue exactly ----
  // {s0, s1, s2, s3, has_spare_normal, spare_normal_bits}
  std::vector<std::uint64_t> state() const;
  // Throws std::invalid_argument on a malformed state (wrong length, all-zero words).
  void set_state(const std::vector<std::uint64_t>& state);
  // The same state as 6 space-separated hexadecimal words (for text/JSON checkpoints).
  std::string state_string() const;
  void set_state_string(const std::string& text);

  friend bool operator==(const Rng& a, const Rng& b) { return a.state() == b.state(); }
  friend bool operator!=(const Rng& a, const Rng& b) { return !(a == b); }

 private:
  // Uniform in the open interval (0, 1): safe to take logs of u and of 1 - u.
  double open_unit();

  std::uint64_t s_[4];
  bool has_spare_ = false;  // Box-Muller makes normals in pairs; the second waits here
  double spare_ = 0.0;
};

}  // namespace fz
