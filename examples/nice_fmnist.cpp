// examples/nice_fmnist.cpp — NICE on Fashion-MNIST, written directly against the library.
//
// The "nice" preset at the nice-fmnist size: the 784 pixels as one vector, 4 additive
// couplings (even/odd halves, alternating) with MLPs 392 -> 1000 (x5 hidden layers) -> 392,
// then a diagonal scaling, and a standard logistic base. Adam lr 1e-3, batch 200, uniform
// dequantization, loss = bits/dim.
//
// It shows: loading a dataset and batching it with DataLoader, training on 8-bit images with
// Trainer::step_images (dequantization and bits/dim are done for you), evaluating train and
// test bits/dim, and drawing samples.
//
//   build/examples/nice_fmnist [minutes=3] [out_dir=.] [test_images=10000]
// Writes nice_samples.png (64 samples). A few minutes gets to roughly 5 bpd; NICE's paper
// numbers need hours.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>

#include "datasets/fashion_mnist.hpp"
#include "datasets/image_write.hpp"
#include "datasets/loader.hpp"
#include "flows/presets.hpp"
#include "flows/trainer.hpp"

using namespace fz;

// The first n examples of a dataset.
static TensorU8 first_images(const ImageDataset& data, std::size_t n) {
  std::vector<std::size_t> idx(std::min(n, data.size()));
  std::iota(idx.begin(), idx.end(), 0);
  return subset(data, idx).images;
}

int main(int argc, char** argv) {
  const double minutes = argc > 1 ? std::atof(argv[1]) : 3.0;
  const std::string out_dir = argc > 2 ? argv[2] : ".";
  const std::size_t test_images = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 10000;

  const ImageDataset train = load_fashion_mnist(/*train=*/true);
  const ImageDataset test = load_fashion_mnist(/*train=*/false);
  LoaderOptions loader_options;
  loader_options.batch_size = 200;
  loader_options.drop_last = true;
  DataLoader loader(train, loader_options);

  PresetConfig config;
  config.model = "nice";
  config.event_shape = {1, 28, 28};  // defaults: 4 couplings, hidden 1000, 5 hidden layers
  Rng init_rng(0);
  auto model = make_flow<float>(config, init_rng);
  Trainer<float> trainer(model, TrainerOptions{}, /*seed=*/0);  // Adam, lr 1e-3
  std::printf("NICE on Fashion-MNIST: %zu parameters, batch 200, %.1f minutes\n", model->num_parameters(), minutes);

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  Batch batch;
  double last_print = 0, running = 0;
  std::size_t steps = 0;
  while (elapsed() < 60 * minutes) {
    if (!loader.next(batch)) continue;  // end of an epoch: the loader reshuffles and goes on
    const StepStats stats = trainer.step_images(batch.images);
    running = ++steps == 1 ? stats.loss : 0.9 * running + 0.1 * stats.loss;
    if (elapsed() - last_print > 10) {
      last_print = elapsed();
      std::printf("step %5zu  epoch %llu  train bpd %.3f (smoothed %.3f)  %.2f s/step\n", steps,
                  static_cast<unsigned long long>(loader.epoch()), stats.loss, running, last_print / steps);
      std::fflush(stdout);
    }
  }
  const double train_sec = elapsed();

  // Bits/dim with the final parameters (one dequantization draw, eval mode, no gradients).
  const std::size_t n_eval = std::min<std::size_t>(test_images, 10000);
  const double train_bpd = trainer.evaluate_images(first_images(train, n_eval), 500);
  const double test_bpd = trainer.evaluate_images(first_images(test, n_eval), 500);

  const std::string samples_png = out_dir + "/nice_samples.png";
  {
    NoGradGuard no_grad;
    model->eval();
    Rng sample_rng(0, 1);
    write_image_grid(samples_png, model->sample(64, 1.0f, sample_rng), 0.0, 1.0, 8);
  }

  std::printf("\ntrained %zu steps in %.1f s (%.2f s/step)\n", steps, train_sec, train_sec / std::max<std::size_t>(steps, 1));
  std::printf("train bpd %.4f (first %zu training images)\n", train_bpd, n_eval);
  std::printf("test bpd  %.4f (first %zu test images)\n", test_bpd, n_eval);
  std::printf("wrote %s\n", samples_png.c_str());
  return 0;
}
