// cli/transformer_flags.hpp — the flags choosing a coupling's elementwise transformer
// (--transformer, and the spline's --bins / --tail-bound, the mixture's --mixtures) checked
// against the model after parsing, and written into the run's PresetConfig.
//
// Which model takes which transformer is flows/presets.hpp's transformer_refusal, the one
// place the rules are written (resolve_preset applies them too); the names --transformer
// accepts are the registry's transformer_choices(). What is the CLI's own: --additive (Glow's
// older switch) must agree with --transformer, and --bins and --tail-bound need the spline
// (nsf, or --transformer spline), --mixtures the mixture: giving one to another transformer is a bad flag, not a silent no-op. The ranges
// (RunLimits in cli/run_config.hpp) are checked by the parsers; RunConfig::validate checks them
// again for configurations read from files.
#pragma once

#include <cstddef>
#include <string>

#include "cli/run_config.hpp"
#include "flows/transformers/registry.hpp"

namespace fz::cli {

// The values as parsed; 0 = the flag was not given (each default is PresetConfig's).
struct TransformerFlags {
  std::size_t bins = 0;
  double tail_bound = 0;
  std::size_t mixtures = 0;
};

// Throws FlagError (cli/flag_checks.hpp: exit 2) with one line naming the flag for a
// combination that cannot be built; otherwise copies the given values into c.model.
// `transformer_typed`: c.model.transformer came from --transformer. When it did not (train
// --config: a run's config.json holds the transformer resolve_preset chose, e.g. nice's
// "additive" or an additive Glow's "affine"), it is not checked as a typed choice: the file's
// value is the model's own, and RunConfig::validate and resolve_preset check it.
void apply_transformer_flags(RunConfig& c, bool additive, const TransformerFlags& flags, bool transformer_typed);

// The transformer the model will use with these flags ("" for nice: additive, fixed).
std::string effective_transformer(const RunConfig& c, bool additive);

}  // namespace fz::cli
