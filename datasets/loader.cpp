// datasets/loader.cpp — batching, shuffling, flips, n-bit reduction, splits.
#include "datasets/loader.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

#include "tensor/parallel.hpp"
#include "tensor/random.hpp"

namespace fz {

ImageDataset subset(const ImageDataset& data, const std::vector<std::size_t>& indices) {
  const std::size_t n = data.size(), per = data.image_bytes();
  for (std::size_t i : indices)
    if (i >= n)
      throw std::out_of_range("subset: index " + std::to_string(i) + " out of range for a dataset of " +
                              std::to_string(n) + " examples");
  ImageDataset out;
  Shape s = data.images.shape();
  s[0] = indices.size();
  out.images = TensorU8::empty(s);
  parallel_for(indices.size(), std::max<std::size_t>(1, 65536 / std::max<std::size_t>(per, 1)),
               [&](std::size_t b, std::size_t e) {
                 for (std::size_t k = b; k < e; ++k)
                   std::memcpy(out.images.data() + k * per, data.images.data() + indices[k] * per, per);
               });
  out.labels.reserve(indices.size());
  for (std::size_t i : indices) out.labels.push_back(data.labels.empty() ? -1 : data.labels[i]);
  out.class_names = data.class_names;
  return out;
}

namespace {

// pixel >> shift on n bytes, eight at a time (SWAR): shift the 64-bit word, then clear the
// bits that crossed in from the neighbouring byte.
void shift_bytes(std::uint8_t* p, std::size_t n, int shift) {
  if (shift == 0) return;
  const std::uint64_t mask = 0x0101010101010101ull * (0xFFu >> shift);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, p + i, 8);
    v = (v >> shift) & mask;
    std::memcpy(p + i, &v, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<std::uint8_t>(p[i] >> shift);
}

// Copies one image of `rows` rows of width w, mirrored left-right when `flip`, then reduces
// it to `bits` bits.
void copy_image(const std::uint8_t* src, std::uint8_t* dst, std::size_t rows, std::size_t w, bool flip, int bits) {
  if (flip) {
    for (std::size_t r = 0; r < rows; ++r) std::reverse_copy(src + r * w, src + (r + 1) * w, dst + r * w);
  } else {
    std::memcpy(dst, src, rows * w);
  }
  shift_bytes(dst, rows * w, 8 - bits);
}

void check_dataset(const ImageDataset& data) {
  if (!data.images.defined() || data.images.dim() != 4)
    throw std::invalid_argument("DataLoader: dataset images must be a (N, C, H, W) tensor");
  if (!data.labels.empty() && data.labels.size() != data.size())
    throw std::invalid_argument("DataLoader: dataset has " + std::to_string(data.size()) + " images but " +
                                std::to_string(data.labels.size()) + " labels");
}

}  // namespace

DataLoader::DataLoader(ImageDataset data, LoaderOptions options)
    : DataLoader(data, [&] {
        check_dataset(data);
        std::vector<std::size_t> all(data.size());
        std::iota(all.begin(), all.end(), std::size_t(0));
        return all;
      }(), options) {}

DataLoader::DataLoader(ImageDataset data, std::vector<std::size_t> indices, LoaderOptions options)
    : data_(std::move(data)), options_(options), indices_(std::move(indices)) {
  check_dataset(data_);
  if (options_.batch_size == 0) throw std::invalid_argument("DataLoader: batch_size must be positive");
  if (options_.bits < 1 || options_.bits > 8)
    throw std::invalid_argument("DataLoader: bits must be in [1, 8], got " + std::to_string(options_.bits));
  for (std::size_t i : indices_)
    if (i >= data_.size())
      throw std::out_of_range("DataLoader: index " + std::to_string(i) + " out of range for a dataset of " +
                              std::to_string(data_.size()) + " examples");
  set_epoch(0);
}

std::size_t DataLoader::num_batches() const {
  const std::size_t n = indices_.size(), bs = options_.batch_size;
  return options_.drop_last ? n / bs : (n + bs - 1) / bs;
}

void DataLoader::set_epoch(std::uint64_t epoch) {
  epoch_ = epoch;
  cursor_ = 0;
  const std::size_t n = indices_.size();
  if (options_.shuffle) {
    std::vector<std::size_t> perm = Rng(options_.seed, 2 * epoch).permutation(n);
    order_.resize(n);
    for (std::size_t k = 0; k < n; ++k) order_[k] = indices_[perm[k]];
  } else {
    order_ = indices_;
  }
  flips_.assign(n, 0);
  if (options_.horizontal_flip) {
    Rng rng(options_.seed, 2 * epoch + 1);
    // 64 flips per draw.
    for (std::size_t k = 0; k < n; k += 64) {
      std::uint64_t bits = rng.next_u64();
      for (std::size_t j = 0; j < 64 && k + j < n; ++j) flips_[k + j] = static_cast<std::uint8_t>((bits >> j) & 1);
    }
  }
}

void DataLoader::fill(std::size_t b, Batch& out) const {
  if (b >= num_batches())
    throw std::out_of_range("DataLoader: batch " + std::to_string(b) + " out of range (" +
                            std::to_string(num_batches()) + " batches per epoch)");
  const std::size_t begin = b * options_.batch_size;
  const std::size_t count = std::min(options_.batch_size, indices_.size() - begin);
  const std::size_t c = data_.channels(), h = data_.height(), w = data_.width(), per = c * h * w;
  const Shape shape{count, c, h, w};
  if (!(out.images.defined() && out.images.shape() == shape && out.images.unique()))
    out.images = TensorU8::empty(shape);
  out.labels.resize(count);
  out.indices.resize(count);
  const std::uint8_t* src = data_.images.data();
  std::uint8_t* dst = out.images.data();
  const int bits = options_.bits;
  // Each chunk moves at least ~64 KiB so TBB only steps in when it pays.
  parallel_for(count, std::max<std::size_t>(1, 65536 / per), [&](std::size_t lo, std::size_t hi) {
    for (std::size_t k = lo; k < hi; ++k) {
      const std::size_t idx = order_[begin + k];
      copy_image(src + idx * per, dst + k * per, c * h, w, flips_[begin + k] != 0, bits);
    }
  });
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t idx = order_[begin + k];
    out.indices[k] = idx;
    out.labels[k] = data_.labels.empty() ? -1 : data_.labels[idx];
  }
}

Batch DataLoader::batch(std::size_t b) const {
  Batch out;
  fill(b, out);
  return out;
}

bool DataLoader::next(Batch& out) {
  if (cursor_ >= num_batches()) {
    set_epoch(epoch_ + 1);
    return false;
  }
  fill(cursor_++, out);
  return true;
}

TrainValidationSplit train_validation_split(std::size_t n, std::size_t num_validation, std::uint64_t seed) {
  if (num_validation > n)
    throw std::invalid_argument("train_validation_split: " + std::to_string(num_validation) +
                                " validation examples requested from " + std::to_string(n));
  std::vector<std::size_t> perm = Rng(seed).permutation(n);
  TrainValidationSplit s;
  s.validation.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(num_validation));
  s.train.assign(perm.begin() + static_cast<std::ptrdiff_t>(num_validation), perm.end());
  std::sort(s.validation.begin(), s.validation.end());
  std::sort(s.train.begin(), s.train.end());
  return s;
}

TrainValidationSplit train_validation_split(std::size_t n, double validation_fraction, std::uint64_t seed) {
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0))
    throw std::invalid_argument("train_validation_split: validation fraction must be in [0, 1), got " +
                                std::to_string(validation_fraction));
  return train_validation_split(n, static_cast<std::size_t>(std::llround(validation_fraction * n)), seed);
}

void flip_horizontal(TensorU8& images) {
  if (images.dim() != 4) throw std::invalid_argument("flip_horizontal: expected (N, C, H, W), got " + shape_str(images.shape()));
  const std::size_t w = images.size(3), rows = images.numel() / std::max<std::size_t>(w, 1);
  for (std::size_t r = 0; r < rows; ++r) std::reverse(images.data() + r * w, images.data() + (r + 1) * w);
}

void reduce_bits(TensorU8& images, int bits) {
  if (bits < 1 || bits > 8) throw std::invalid_argument("reduce_bits: bits must be in [1, 8], got " + std::to_string(bits));
  shift_bytes(images.data(), images.numel(), 8 - bits);
}

}  // namespace fz
