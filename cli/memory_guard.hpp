// cli/memory_guard.hpp — refusing, before allocating, a run that cannot fit in this machine's
// memory. The need comes from flows/memory_estimate.hpp (parameters, the optimiser's and the
// averages' copies of them, a training step's activations, or a gradient-free pass's working
// set), the machine's memory from sysconf (physical pages x page size), or from the
// environment variable FZ_MEMORY_LIMIT_BYTES when it is set (a byte count: to leave room for
// other jobs, or for tests). A refusal is one sentence with both numbers, e.g.
//   "glow with hidden 8192, 2 levels x 8 steps on 1x28x28 images needs about 310 GB to train at
//    batch 64 (activations 300 GB, parameters with gradients and optimiser state 9.6 GB); this
//    machine has 23.4 GB: lower --batch or the model's size (--hidden, --levels, ...)"
#pragma once

#include <string>

#include "cli/run_config.hpp"

namespace fz::cli {

constexpr const char* kMemoryLimitVariable = "FZ_MEMORY_LIMIT_BYTES";

// FZ_MEMORY_LIMIT_BYTES if set (throws std::invalid_argument when it is not a byte count),
// else the physical memory.
double machine_memory_bytes();

// "23.4 GB", "310 MB", "12 KB" (powers of 1000).
std::string memory_text(double bytes);

// The shape one sample of the run's data will have, known before loading it: (1, 28, 28) for
// (fashion-)MNIST, (3, 32, 32) for CIFAR-10, (channels, image_size, image_size) for a folder
// (defaults 3 and 32), (2) for toy data.
Shape expected_event_shape(const RunConfig& config);

// Training `config` (its model resolved for `event_shape`) at config.batch: parameters,
// gradients, optimiser state, Polyak averages and the step's activations. Throws FlagError
// when it cannot fit and `from_checkpoint` is empty (the flags asked for it), else
// std::runtime_error naming the checkpoint.
void check_training_memory(const RunConfig& config, const Shape& event_shape, const std::string& from_checkpoint = "");

// A checkpoint's model used without gradients on `batch` samples at once (eval, sample,
// density): parameters and the state load_run restores, plus the widest layer's working set.
// `batch_flag` names the flag that chose the batch ("--grid 4000"); when the model alone (at a
// batch of 1) is too big the refusal names the checkpoint (std::runtime_error), else the flag
// (FlagError).
void check_inference_memory(const RunConfig& config, std::size_t batch, const std::string& checkpoint,
                            const std::string& batch_flag);

// Everything train (and tape, profile) checks before loading data or building the model:
// validate(), the preset's combination (resolve_preset) and check_training_memory at the
// data shape expected_event_shape() predicts. With `checkpoint` empty the config came from
// flags and errors are FlagErrors; else they are std::runtime_errors naming the checkpoint.
void check_run_fits(const RunConfig& config, const std::string& checkpoint = "");

// The same for a checkpoint's configuration about to be loaded for eval, sample, density,
// inspect or latents (check_inference_memory at `batch`).
void check_checkpoint_fits(const RunConfig& config, const std::string& checkpoint, std::size_t batch,
                           const std::string& batch_flag);

}  // namespace fz::cli
