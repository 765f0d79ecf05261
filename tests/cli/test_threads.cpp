// tests/cli/test_threads.cpp — thread counts through the command line, on Glow at its real
// Fashion-MNIST sizes (28x28, hidden 128, two levels; two steps per level and batch 8 to stay
// fast), where the kernels really split their work across threads:
//   - the real binary with --threads 1 and --threads 2 writes bit-identical checkpoints (every
//     parameter, optimiser moment and the step; the library promises this, see
//     tests/flows/test_threads.cpp for why it holds);
//   - at 2 threads, N steps straight equal N/2 steps plus a resumed N/2, bit for bit.
// Every other CLI and resume test runs at 1 thread.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "cli/checkpoint.hpp"
#include "cli/commands.hpp"
#include "cli_helpers.hpp"
#include "datasets/fashion_mnist.hpp"
#include "tensor/safetensors.hpp"

using namespace fz;
using namespace fz::cli;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return fz::test::fresh_temp_path("threads", name); }

// Only the exit status matters here.
int run_binary(const std::string& args) { return fz::test::run_flowzoo(args, temp_dir("io")).status; }

// The flags of a short Glow run on Fashion-MNIST (no periodic evaluation or samples, a
// 16-image final evaluation).
std::string glow_flags(const std::string& out, std::size_t steps, int threads) {
  return "--model glow --dataset fashion-mnist --levels 2 --steps-per-level 2 --hidden 128"
         " --batch 8 --seed 5 --eval-every 0 --sample-every 0 --final-eval-limit 16 --quiet"
         " --steps " + std::to_string(steps) + " --threads " + std::to_string(threads) +
         " --out " + out;
}

TrainRequest glow_request(const std::string& out, std::size_t steps, int threads) {
  TrainRequest r = fz::test::tiny_glow_request(out, steps, 2, 2, 128);
  r.config.batch = 8;
  r.config.seed = 5;
  r.config.threads = threads;
  r.config.final_eval_limit = 16;
  return r;
}

// Every float tensor of two checkpoints (model, optimiser state) equal to the bit; returns
// how many model parameters were compared.
std::size_t require_identical_checkpoints(const std::string& a, const std::string& b) {
  const NamedTensors ta = load_safetensors(a + "/checkpoint.safetensors");
  const NamedTensors tb = load_safetensors(b + "/checkpoint.safetensors");
  REQUIRE(ta.f32.size() == tb.f32.size());
  std::size_t params = 0;
  for (std::size_t i = 0; i < ta.f32.size(); ++i) {
    INFO(ta.f32[i].first);
    REQUIRE(ta.f32[i].first == tb.f32[i].first);
    CHECK(ta.f32[i].second.to_vector() == tb.f32[i].second.to_vector());
    params += ta.f32[i].first.rfind("model.", 0) == 0;
  }
  return params;
}

bool have_fashion_mnist() {
  return fs::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz");
}

}  // namespace

TEST_CASE("threads: the binary trains Glow to the same checkpoint with 1 and 2 threads",
          "[cli][threads]") {
  // scripts/setup.sh installs Debian's dataset-fashion-mnist; without it this cannot run.
  INFO("needs Fashion-MNIST in " << kFashionMnistDir << " (Debian's dataset-fashion-mnist)");
  REQUIRE(have_fashion_mnist());
  const std::string one = temp_dir("one"), two = temp_dir("two");
  REQUIRE(run_binary("train " + glow_flags(one, 3, 1)) == 0);
  REQUIRE(run_binary("train " + glow_flags(two, 3, 2)) == 0);
  CHECK(require_identical_checkpoints(one, two) > 20);
  CHECK(read_checkpoint_info(two + "/checkpoint.safetensors").step == 3);
  fs::remove_all(one);
  fs::remove_all(two);
}

TEST_CASE("threads: at 2 threads, N steps straight equal N/2 steps plus a resumed N/2",
          "[cli][threads]") {
  INFO("needs Fashion-MNIST in " << kFashionMnistDir << " (Debian's dataset-fashion-mnist)");
  REQUIRE(have_fashion_mnist());
  const std::string straight = temp_dir("straight"), resumed = temp_dir("resumed");
  REQUIRE(run_train(glow_request(straight, 4, 2)) == kExitOk);
  REQUIRE(run_train(glow_request(resumed, 2, 2)) == kExitOk);
  TrainRequest resume = glow_request(resumed, 4, 2);
  resume.resume = true;
  REQUIRE(run_train(resume) == kExitOk);
  CHECK(require_identical_checkpoints(straight, resumed) > 20);
  CHECK(read_checkpoint_info(resumed + "/checkpoint.safetensors").step == 4);
  fs::remove_all(straight);
  fs::remove_all(resumed);
}
