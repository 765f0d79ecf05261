// cli/loaded_run.cpp — checkpoint -> ready-to-use model.
#include "cli/loaded_run.hpp"

#include "cli/memory_guard.hpp"
#include "flows/presets.hpp"
#include "flows/variational_dequantizer.hpp"
#include "tensor/parallel.hpp"

namespace fz::cli {

LoadedRun load_run(const std::string& checkpoint_path, std::size_t batch, const std::string& batch_flag) {
  LoadedRun run;
  run.info = read_checkpoint_info(checkpoint_path);
  check_checkpoint_fits(run.info.config, checkpoint_path, batch, batch_flag);
  set_num_threads(run.info.config.threads);
  Rng init_rng(run.info.config.seed);
  run.model = make_flow<float>(run.info.config.model, init_rng);
  if (run.info.config.variational_dequantization())
    add_variational_dequantizer(*run.model, run.info.config.dequant_hidden, run.info.config.train.bits, init_rng);
  run.trainer = std::make_unique<Trainer<float>>(run.model, run.info.config.train, run.info.config.seed);
  load_checkpoint(checkpoint_path, *run.model, run.trainer.get());
  run.model->eval();
  return run;
}

}  // namespace fz::cli
