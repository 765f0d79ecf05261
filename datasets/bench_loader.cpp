// datasets/bench_loader.cpp — times Fashion-MNIST loading and one shuffled pass of the
// DataLoader over the 60,000 training images (batch 64). Usage: bench_loader [data_dir] [epochs]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <string>

#include "datasets/fashion_mnist.hpp"
#include "datasets/loader.hpp"
#include "tensor/parallel.hpp"

int main(int argc, char** argv) {
  using clock = std::chrono::steady_clock;
  try {
    std::string dir = argc > 1 ? argv[1] : fz::kFashionMnistDir;
    int epochs = argc > 2 ? std::atoi(argv[2]) : 5;
    auto t0 = clock::now();
    std::clock_t c0 = std::clock();
    fz::ImageDataset train = fz::load_fashion_mnist(true, dir);
    double load_s = std::chrono::duration<double>(clock::now() - t0).count();
    std::printf("load (gunzip + parse) %zu images %zux%zu: %.3f s wall, %.3f s CPU (threads %d)\n", train.size(),
                train.height(), train.width(), load_s, double(std::clock() - c0) / CLOCKS_PER_SEC, fz::num_threads());
    for (int variant = 0; variant < 2; ++variant) {
      fz::LoaderOptions opt;
      opt.batch_size = 64;
      opt.shuffle = true;
      opt.seed = 1;
      if (variant == 1) {
        opt.horizontal_flip = true;
        opt.bits = 5;
      }
      fz::DataLoader loader(train, opt);
      fz::Batch batch;
      double best = 1e30, total = 0, cpu_total = 0;
      std::size_t checksum = 0;
      for (int e = 0; e < epochs; ++e) {
        auto t1 = clock::now();
        std::clock_t c1 = std::clock();
        std::size_t seen = 0;
        while (loader.next(batch)) {
          seen += batch.size();
          checksum += batch.images[0] + static_cast<std::size_t>(batch.labels[0]);
        }
        double s = std::chrono::duration<double>(clock::now() - t1).count();
        cpu_total += double(std::clock() - c1) / CLOCKS_PER_SEC;
        best = std::min(best, s);
        total += s;
        if (seen != train.size()) std::printf("error: epoch saw %zu examples\n", seen);
      }
      std::printf("%s: one pass (%zu batches of 64, shuffled): best %.2f ms, mean %.2f ms over %d epochs; "
                  "process CPU time %.2f ms per pass (checksum %zu)\n",
                  variant == 0 ? "plain        " : "flip + 5-bit ", loader.num_batches(), best * 1e3,
                  total / epochs * 1e3, epochs, cpu_total / epochs * 1e3, checksum);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_loader: %s\n", e.what());
    return 1;
  }
  return 0;
}
