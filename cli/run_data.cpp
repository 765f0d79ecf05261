// cli/run_data.cpp — dataset selection for the CLI.
#include "cli/run_data.hpp"

#include <stdexcept>

#include "datasets/cifar.hpp"
#include "datasets/fashion_mnist.hpp"
#include "datasets/image_folder.hpp"
#include "datasets/loader.hpp"

namespace fz::cli {

Tensor<float> RunData::toy_batch(std::size_t step, std::size_t batch) const {
  // A distinct, reproducible stream per step: resuming at step s draws the same batch.
  return sample_toy2d<float>(density, batch, seed * 0x9E3779B97F4A7C15ull + step + 1);
}

Tensor<float> RunData::toy_test(std::size_t n) const {
  return sample_toy2d<float>(density, n, seed * 0x9E3779B97F4A7C15ull + 0xC0FFEEull);
}

RunData load_run_data(const RunConfig& c, bool need_train) {
  RunData d;
  d.seed = c.seed;
  if (c.is_toy()) {
    d.toy = true;
    d.density = toy2d_from_name(c.density);
    d.event_shape = {2};
    return d;
  }
  auto load = [&](bool train) -> ImageDataset {
    if (c.dataset == "fashion-mnist") return load_fashion_mnist(train, c.data_dir.empty() ? kFashionMnistDir : c.data_dir);
    if (c.dataset == "mnist") {
      if (c.data_dir.empty())
        throw std::invalid_argument("--dataset mnist needs --data-dir (a directory with the four MNIST IDX files)");
      return load_idx_dataset(c.data_dir, train);
    }
    if (c.dataset == "cifar10") {
      if (c.data_dir.empty())
        throw std::invalid_argument("--dataset cifar10 needs --data-dir (the cifar-10-batches-bin directory)");
      return load_cifar10(c.data_dir, train);
    }
    // folder: train/ and test/ subfolders when present, else one folder used for both.
    ImageFolderOptions o;
    o.channels = static_cast<int>(c.channels ? c.channels : 3);
    o.height = o.width = static_cast<int>(c.image_size ? c.image_size : 32);
    o.max_pixels = static_cast<std::size_t>(c.max_megapixels * 1e6);
    return load_image_folder(c.data_dir, o);
  };
  d.test = load(false);
  if (need_train) d.train = c.dataset == "folder" ? d.test : load(true);
  const ImageDataset& any = need_train ? d.train : d.test;
  d.event_shape = {any.channels(), any.height(), any.width()};
  if (c.train.bits != 8) reduce_bits(d.test.images, c.train.bits);
  if (need_train && c.train.bits != 8 && c.dataset != "folder") reduce_bits(d.train.images, c.train.bits);
  return d;
}

}  // namespace fz::cli
