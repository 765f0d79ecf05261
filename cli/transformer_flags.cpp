// cli/transformer_flags.cpp — --transformer, --bins, --tail-bound, --mixtures against the model.
#include "cli/transformer_flags.hpp"

#include "cli/flag_checks.hpp"
#include "flows/presets.hpp"

namespace fz::cli {

std::string effective_transformer(const RunConfig& c, bool additive) {
  const std::string& m = c.model.model;
  if (m == "nice" || m == "resflow" || m == "ffjord") return "";
  if (!c.model.transformer.empty()) return c.model.transformer;
  return additive ? "additive" : default_transformer(m);
}

void apply_transformer_flags(RunConfig& c, bool additive, const TransformerFlags& flags, bool transformer_typed) {
  const std::string& m = c.model.model;
  const std::string& t = c.model.transformer;
  if (transformer_typed && !t.empty()) {
    const std::string refusal = transformer_refusal(m, t);
    if (!refusal.empty()) throw FlagError("--transformer " + t + ": " + refusal);
    if (additive && t != "additive") throw FlagError("--additive contradicts --transformer " + t + " (give one of them)");
  }
  if (additive && m == "flowpp") throw FlagError("--additive is for glow, not flowpp (its couplings are logistic mixtures)");
  const std::string used = effective_transformer(c, additive);
  const bool no_couplings = m == "resflow" || m == "ffjord";
  const std::string which = used.empty() ? m + (no_couplings ? " (no couplings)" : " (additive couplings)")
                                         : "--transformer " + used;
  if ((flags.bins || flags.tail_bound > 0) && used != "spline")
    throw FlagError(std::string(flags.bins ? "--bins" : "--tail-bound") + " is for the spline transformer (nsf, or "
                    "--transformer spline), not " + which);
  if (flags.mixtures && used != "mixture")
    throw FlagError("--mixtures is for the mixture transformer (--transformer mixture), not " + which);
  if (flags.bins) c.model.bins = flags.bins;
  if (flags.tail_bound > 0) c.model.tail_bound = flags.tail_bound;
  if (flags.mixtures) c.model.mixtures = flags.mixtures;
}

}  // namespace fz::cli
