// datasets/image_dataset.hpp — ImageDataset: an in-memory labelled image set, the common
// result of every image reader (IDX, CIFAR, image folders) and the input of DataLoader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../tensor/tensor.hpp"

namespace fz {

struct ImageDataset {
  TensorU8 images;                      // (N, C, H, W), uint8 pixels
  std::vector<std::int32_t> labels;     // N labels; -1 = unlabelled
  std::vector<std::string> class_names; // optional: class_names[label]

  std::size_t size() const { return images.defined() ? images.size(0) : 0; }
  std::size_t channels() const { return images.size(1); }
  std::size_t height() const { return images.size(2); }
  std::size_t width() const { return images.size(3); }
  // Bytes of one image (C*H*W).
  std::size_t image_bytes() const { return channels() * height() * width(); }
};

// A copy of the examples at `indices` (in that order); throws std::out_of_range on a bad index.
ImageDataset subset(const ImageDataset& data, const std::vector<std::size_t>& indices);

}  // namespace fz
