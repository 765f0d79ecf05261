// datasets/fashion_mnist.hpp — IDX image datasets in the MNIST directory layout:
// Fashion-MNIST (the default real dataset, from Debian's dataset-fashion-mnist), MNIST,
// KMNIST and EMNIST. A data directory holds the four standard files
//   train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte
// each raw or with a .gz suffix (EMNIST prefixes them, e.g. "emnist-balanced-").
#pragma once

#include <string>
#include <vector>

#include "error.hpp"
#include "image_dataset.hpp"

namespace fz {

// Where Debian's dataset-fashion-mnist package puts the files.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct IdxDatasetOptions {
  std::string prefix;      // file-name prefix, e.g. "emnist-balanced-"
  bool transpose = false;  // EMNIST stores each image transposed
};

// The path of one standard file in `dir`: "<dir>/<prefix><stem>" or with ".gz", whichever
// exists; throws DatasetError naming both candidates when neither does.
std::string find_idx_file(const std::string& dir, const std::string& stem, const std::string& prefix = "");

// Train (60,000 for MNIST-like sets) or test (10,000) split of a directory in this layout:
// images (N, 1, H, W), labels N. Throws DatasetError when the image and label counts differ.
ImageDataset load_idx_dataset(const std::string& dir, bool train, const IdxDatasetOptions& options = {});

// Fashion-MNIST with its class names; `data_dir` overrides the Debian location.
ImageDataset load_fashion_mnist(bool train, const std::string& data_dir = kFashionMnistDir);
const std::vector<std::string>& fashion_mnist_class_names();

}  // namespace fz
