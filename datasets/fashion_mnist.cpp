// datasets/fashion_mnist.cpp — MNIST-layout directories of IDX files.
#include "datasets/fashion_mnist.hpp"

#include <sys/stat.h>

#include "datasets/idx.hpp"

namespace fz {

namespace {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::string find_idx_file(const std::string& dir, const std::string& stem, const std::string& prefix) {
  std::string raw = dir + "/" + prefix + stem;
  if (file_exists(raw + ".gz")) return raw + ".gz";
  if (file_exists(raw)) return raw;
  throw DatasetError(raw + ".gz", "missing file (no " + raw + " either; is the data directory right?)");
}

ImageDataset load_idx_dataset(const std::string& dir, bool train, const IdxDatasetOptions& options) {
  const std::string split = train ? "train" : "t10k";
  std::string images_path = find_idx_file(dir, split + "-images-idx3-ubyte", options.prefix);
  std::string labels_path = find_idx_file(dir, split + "-labels-idx1-ubyte", options.prefix);
  ImageDataset out;
  out.images = read_idx_images(images_path, options.transpose);
  out.labels = read_idx_labels(labels_path);
  if (out.labels.size() != out.images.size(0))
    throw DatasetError(labels_path, "has " + std::to_string(out.labels.size()) + " labels but " + images_path +
                                        " has " + std::to_string(out.images.size(0)) + " images");
  return out;
}

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

ImageDataset load_fashion_mnist(bool train, const std::string& data_dir) {
  ImageDataset out = load_idx_dataset(data_dir, train);
  for (std::size_t i = 0; i < out.labels.size(); ++i)
    if (out.labels[i] < 0 || out.labels[i] > 9)
      throw DatasetError(find_idx_file(data_dir, std::string(train ? "train" : "t10k") + "-labels-idx1-ubyte"),
                         "label " + std::to_string(out.labels[i]) + " at index " + std::to_string(i) +
                             " is outside Fashion-MNIST's 10 classes");
  out.class_names = fashion_mnist_class_names();
  return out;
}

}  // namespace fz
