// examples/nice_fmnist.cpp — NICE on Fashion-MNIST, written directly against the library.
//
// The "nice" preset at the nice-fmnist size: the 784 pixels as one vector, 4 additive
// couplings (even/odd halves, alternating) with MLPs 392 -> 1000 (x5 hidden layers) -> 392,
// then a diagonal scaling, and a standard logistic base. Adam lr 1e-3, batch 200, uniform
// dequantization, loss = bits/dim.
//
// It shows: loading a dataset and batching it with DataLoader, training on 8-bit images with
// Trainer::step_images (dequantization and bits/dim are done for you), evaluating train and
// test bits/dim, drawing samples — and reaching into a model to initialise one layer's
// parameter from data (init_scaling_from_data below; pass "noinit" as 4th argument to skip).
//
//   build/examples/nice_fmnist [minutes=3] [out_dir=.] [test_images=10000] [noinit]
// Writes nice_samples.png (64 samples). A few minutes of training are far from NICE's paper
// numbers (those need hours); they show the mechanics and a falling bits/dim.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>

#include "datasets/fashion_mnist.hpp"
#include "datasets/image_write.hpp"
#include "datasets/labelled_grid.hpp"
#include "datasets/loader.hpp"
#include "flows/bijectors/diagonal_scaling.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/presets.hpp"
#include "flows/trainer.hpp"

using namespace fz;

// The first n examples of a dataset.
static TensorU8 first_images(const ImageDataset& data, std::size_t n) {
  std::vector<std::size_t> idx(std::min(n, data.size()));
  std::iota(idx.begin(), idx.end(), 0);
  return subset(data, idx).images;
}

// NICE ends with z = x * exp(s), s = 0 at first, and Adam moves s by about lr = 1e-3 per step,
// while the best s for the nearly constant border pixels is about -7: left alone, NICE needs
// thousands of steps to get away from ~10 bpd. So, like Glow's ActNorm, set s from data: push
// 1,000 training images through every layer before the scaling and choose s per dimension so
// that it gets the standard deviation of the standard logistic base, pi / sqrt(3).
static void init_scaling_from_data(FlowModel<float>& model, const TensorU8& pixels) {
  NoGradGuard no_grad;
  Rng rng(0, 2);
  const std::size_t n = pixels.shape()[0], d = model.dims();
  // NICE's preprocessing is only a Flatten: (n, 1, 28, 28) -> (n, 784).
  Var<float> h(dequantize<float>(pixels, rng).reshape({n, d}));
  const Chain<float>& flow = *model.scales()[0].flow;
  for (std::size_t i = 0; i + 1 < flow.size(); ++i) h = flow[i]->forward(h).value;
  auto scaling = std::dynamic_pointer_cast<DiagonalScaling<float>>(flow[flow.size() - 1]);
  Var<float> log_scale = scaling->log_scale();  // a handle to the parameter itself
  const double logistic_sd = 3.14159265358979 / std::sqrt(3.0);
  for (std::size_t j = 0; j < d; ++j) {
    double sum = 0, sum2 = 0;
    for (std::size_t b = 0; b < n; ++b) {
      const double v = h.value()[b * d + j];
      sum += v;
      sum2 += v * v;
    }
    const double var = std::max(sum2 / n - (sum / n) * (sum / n), 1e-12);
    log_scale.mutable_value()[j] = static_cast<float>(std::log(logistic_sd / std::sqrt(var)));
  }
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
  const bool data_init = !(argc > 4 && std::string(argv[4]) == "noinit");
  if (data_init) init_scaling_from_data(*model, first_images(train, 1000));
  Trainer<float> trainer(model, TrainerOptions{}, /*seed=*/0);  // Adam, lr 1e-3
  std::printf("NICE on Fashion-MNIST: %zu parameters, batch 200, %.1f minutes, scaling %s\n",
              model->num_parameters(), minutes, data_init ? "initialised from data" : "initialised to 1");

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
    LabelledGrid picture =
        image_table("NICE on Fashion-MNIST: samples at T = 1", to_uint8_images(model->sample(64, 1.0f, sample_rng)), 8);
    picture.upscale = 2;
    write_labelled_grid_png(samples_png, picture);
  }

  std::printf("\ntrained %zu steps in %.1f s (%.2f s/step)\n", steps, train_sec, train_sec / std::max<std::size_t>(steps, 1));
  std::printf("train bpd %.4f (first %zu training images)\n", train_bpd, n_eval);
  std::printf("test bpd  %.4f (first %zu test images)\n", test_bpd, n_eval);
  std::printf("wrote %s\n", samples_png.c_str());
  return 0;
}
