// datasets/loader.hpp — DataLoader: uint8 (N, C, H, W) batches with labels from an ImageDataset.
//
// Shuffling is by seed and epoch: epoch e's order is Rng(seed, 2e).permutation(n) and its
// flips come from Rng(seed, 2e + 1), so the same (seed, epoch) always gives the same batches,
// whatever the thread count, and a resumed run can jump straight to its epoch. Batches are
// assembled (gather + optional horizontal flip + n-bit reduction) in parallel with TBB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "image_dataset.hpp"

namespace fz {

struct LoaderOptions {
  std::size_t batch_size = 64;
  bool shuffle = true;
  std::uint64_t seed = 0;
  bool drop_last = false;        // drop the final short batch of each epoch
  bool horizontal_flip = false;  // flip each example left-right with probability 1/2
  int bits = 8;                  // n-bit reduction (Glow): pixel >> (8 - bits), values in [0, 2^bits)
};

struct Batch {
  TensorU8 images;                   // (B, C, H, W)
  std::vector<std::int32_t> labels;  // B labels
  std::vector<std::size_t> indices;  // dataset index of each example
  std::size_t size() const { return labels.size(); }
};

class DataLoader {
 public:
  // The loader shares `data`'s pixel buffer (no copy). Throws std::invalid_argument on
  // batch_size 0, bits outside [1, 8], or a dataset without images.
  DataLoader(ImageDataset data, LoaderOptions options);
  // Only the examples at `indices`, e.g. one side of train_validation_split.
  DataLoader(ImageDataset data, std::vector<std::size_t> indices, LoaderOptions options);

  const ImageDataset& dataset() const { return data_; }
  const LoaderOptions& options() const { return options_; }
  std::size_t num_examples() const { return indices_.size(); }
  // Batches per epoch (counting a final short batch unless drop_last).
  std::size_t num_batches() const;

  // Starts epoch `epoch` (0-based) from its first batch; the constructor starts epoch 0.
  void set_epoch(std::uint64_t epoch);
  std::uint64_t epoch() const { return epoch_; }
  // Dataset indices in this epoch's order.
  const std::vector<std::size_t>& order() const { return order_; }

  // Batch b of the current epoch (random access; const and safe to call from several threads).
  Batch batch(std::size_t b) const;
  // The next batch of the current epoch into `out` (reusing its buffer when possible). At the
  // end of an epoch returns false once and moves on to the next epoch (reshuffled), so
  //   while (loader.next(b)) {...}  is one epoch.
  bool next(Batch& out);

 private:
  void fill(std::size_t b, Batch& out) const;

  ImageDataset data_;
  LoaderOptions options_;
  std::vector<std::size_t> indices_;  // the examples this loader serves
  std::vector<std::size_t> order_;    // this epoch's order (values from indices_)
  std::vector<std::uint8_t> flips_;   // per position in order_
  std::uint64_t epoch_ = 0;
  std::size_t cursor_ = 0;
};

struct TrainValidationSplit {
  std::vector<std::size_t> train;       // ascending
  std::vector<std::size_t> validation;  // ascending
};

// Holds out `num_validation` of n examples, chosen at random by Rng(seed). Throws
// std::invalid_argument when num_validation > n.
TrainValidationSplit train_validation_split(std::size_t n, std::size_t num_validation, std::uint64_t seed);
// The same with a fraction in [0, 1) (rounded to the nearest count).
TrainValidationSplit train_validation_split(std::size_t n, double validation_fraction, std::uint64_t seed);

// In-place transforms on a (N, C, H, W) batch.
void flip_horizontal(TensorU8& images);      // every image
void reduce_bits(TensorU8& images, int bits);  // pixel >> (8 - bits)

}  // namespace fz
