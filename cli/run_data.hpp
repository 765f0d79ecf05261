// cli/run_data.hpp — the data a run trains and evaluates on, chosen by RunConfig: image
// datasets (train and test splits as uint8 (N, C, H, W)) or a toy 2-D density, whose batches
// are drawn fresh from a seed per step so that a resumed run sees exactly the same data.
#pragma once

#include <cstdint>

#include "cli/run_config.hpp"
#include "datasets/image_dataset.hpp"
#include "datasets/toy2d.hpp"

namespace fz::cli {

struct RunData {
  bool toy = false;
  ImageDataset train, test;  // image datasets
  Toy2D density = Toy2D::Moons;
  std::uint64_t seed = 0;
  Shape event_shape;         // one sample: (C, H, W) or (2)

  // Toy data: the batch used at `step` (0-based), and a fixed test set.
  Tensor<float> toy_batch(std::size_t step, std::size_t batch) const;
  Tensor<float> toy_test(std::size_t n) const;
};

// Loads (or, for toy data, describes) the run's data. `need_train` = false skips the training
// split (eval/sample commands). Errors name the dataset, the directory and what is missing.
RunData load_run_data(const RunConfig& config, bool need_train = true);

}  // namespace fz::cli
