// cli/resume_flags.cpp — the table of train flags and how --resume treats each.
#include "cli/resume_flags.hpp"

#include <cstdio>
#include <functional>

#include "cli/run_folder.hpp"

namespace fz::cli {

namespace {

std::string show(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
std::string show(bool v) { return v ? "on" : "off"; }
std::string show(const std::string& v) { return "'" + v + "'"; }

struct FlagRule {
  const char* flag;
  bool refused;                                   // changes shapes, data or saved state
  std::function<std::string(const RunConfig&)> value;
  std::function<void(RunConfig&, const RunConfig&)> apply;  // only for applied flags
};

// Effective folder-dataset geometry (0 means the default 32 px, 3 channels).
std::size_t image_size_of(const RunConfig& c) { return c.image_size ? c.image_size : 32; }
std::size_t channels_of(const RunConfig& c) { return c.channels ? c.channels : 3; }

const std::vector<FlagRule>& rules() {
  using C = const RunConfig&;
  static const std::vector<FlagRule> kRules = {
      {"--model", true, [](C c) { return show(c.model.model); }, nullptr},
      {"--levels", true, [](C c) { return show(double(c.model.levels)); }, nullptr},
      {"--steps-per-level", true, [](C c) { return show(double(c.model.steps_per_level)); }, nullptr},
      {"--hidden", true, [](C c) { return show(double(c.model.hidden)); }, nullptr},
      {"--blocks", true, [](C c) { return show(double(c.model.blocks)); }, nullptr},
      {"--couplings", true, [](C c) { return show(double(c.model.couplings)); }, nullptr},
      {"--additive", true, [](C c) { return show(!c.model.affine); }, nullptr},
      {"--plain-1x1", true, [](C c) { return show(!c.model.lu); }, nullptr},
      {"--learn-top", true, [](C c) { return show(c.model.learn_top); }, nullptr},
      {"--weight-norm", true, [](C c) { return show(c.model.weight_norm); }, nullptr},
      {"--transformer", true, [](C c) { return show(c.model.transformer); }, nullptr},
      {"--bins", true, [](C c) { return show(double(c.model.bins)); }, nullptr},
      {"--tail-bound", true, [](C c) { return show(c.model.tail_bound); }, nullptr},
      {"--mixtures", true, [](C c) { return show(double(c.model.mixtures)); }, nullptr},
      {"--attention-heads", true, [](C c) { return show(double(c.model.attention_heads)); }, nullptr},
      // The ODE solver changes no parameter: a resumed ffjord run may integrate differently.
      {"--ode-solver", false, [](C c) { return show(c.model.ode_solver); },
       [](RunConfig& s, C g) { s.model.ode_solver = g.model.ode_solver; }},
      {"--ode-steps", false, [](C c) { return show(double(c.model.ode_steps)); },
       [](RunConfig& s, C g) { s.model.ode_steps = g.model.ode_steps; }},
      {"--ode-rtol", false, [](C c) { return show(c.model.ode_rtol); },
       [](RunConfig& s, C g) { s.model.ode_rtol = g.model.ode_rtol; }},
      {"--ode-atol", false, [](C c) { return show(c.model.ode_atol); },
       [](RunConfig& s, C g) { s.model.ode_atol = g.model.ode_atol; }},
      {"--dataset", true, [](C c) { return show(c.dataset); }, nullptr},
      {"--density", true, [](C c) { return show(c.density); }, nullptr},
      {"--bits", true, [](C c) { return show(double(c.train.bits)); }, nullptr},
      {"--image-size", true, [](C c) { return show(double(image_size_of(c))); }, nullptr},
      {"--channels", true, [](C c) { return show(double(channels_of(c))); }, nullptr},
      {"--optimizer", true, [](C c) { return show(c.train.optimizer); }, nullptr},
      {"--polyak", true, [](C c) { return show(c.train.polyak_decay); }, nullptr},
      {"--dequantization", true, [](C c) { return show(c.dequantization); }, nullptr},
      {"--dequant-hidden", true, [](C c) { return show(double(c.dequant_hidden)); }, nullptr},
      {"--lr", false, [](C c) { return show(c.train.lr); }, [](RunConfig& s, C g) { s.train.lr = g.train.lr; }},
      {"--warmup", false, [](C c) { return show(double(c.train.warmup_steps)); },
       [](RunConfig& s, C g) { s.train.warmup_steps = g.train.warmup_steps; }},
      {"--schedule", false, [](C c) { return show(c.train.schedule); },
       [](RunConfig& s, C g) { s.train.schedule = g.train.schedule; }},
      {"--lr-min", false, [](C c) { return show(c.train.lr_min); }, [](RunConfig& s, C g) { s.train.lr_min = g.train.lr_min; }},
      {"--schedule-steps", false, [](C c) { return show(double(c.train.schedule_steps)); },
       [](RunConfig& s, C g) { s.train.schedule_steps = g.train.schedule_steps; }},
      {"--schedule-step-every", false, [](C c) { return show(double(c.train.schedule_step_every)); },
       [](RunConfig& s, C g) { s.train.schedule_step_every = g.train.schedule_step_every; }},
      {"--schedule-gamma", false, [](C c) { return show(c.train.schedule_gamma); },
       [](RunConfig& s, C g) { s.train.schedule_gamma = g.train.schedule_gamma; }},
      {"--clip", false, [](C c) { return show(c.train.clip_grad_norm); },
       [](RunConfig& s, C g) { s.train.clip_grad_norm = g.train.clip_grad_norm; }},
      // Only memory and time change with it (the gradients are the same up to rounding).
      {"--memory-saving", false, [](C c) { return show(c.train.memory_saving); },
       [](RunConfig& s, C g) { s.train.memory_saving = g.train.memory_saving; }},
      {"--threads", false, [](C c) { return show(double(c.threads)); }, [](RunConfig& s, C g) { s.threads = g.threads; }},
      {"--batch", false, [](C c) { return show(double(c.batch)); }, [](RunConfig& s, C g) { s.batch = g.batch; }},
      {"--seed", false, [](C c) { return show(double(c.seed)); }, [](RunConfig& s, C g) { s.seed = g.seed; }},
      {"--data-dir", false, [](C c) { return show(c.data_dir); }, [](RunConfig& s, C g) { s.data_dir = g.data_dir; }},
      {"--eval-every", false, [](C c) { return show(double(c.eval_every)); },
       [](RunConfig& s, C g) { s.eval_every = g.eval_every; }},
      {"--eval-limit", false, [](C c) { return show(double(c.eval_limit)); },
       [](RunConfig& s, C g) { s.eval_limit = g.eval_limit; }},
      {"--final-eval-limit", false, [](C c) { return show(double(c.final_eval_limit)); },
       [](RunConfig& s, C g) { s.final_eval_limit = g.final_eval_limit; }},
      {"--sample-every", false, [](C c) { return show(double(c.sample_every)); },
       [](RunConfig& s, C g) { s.sample_every = g.sample_every; }},
      {"--checkpoint-seconds", false, [](C c) { return show(c.checkpoint_seconds); },
       [](RunConfig& s, C g) { s.checkpoint_seconds = g.checkpoint_seconds; }},
  };
  return kRules;
}

}  // namespace

RunConfig merge_resume_flags(const RunConfig& saved, const RunConfig& given, const std::set<std::string>& given_flags,
                             const std::string& run_dir, std::vector<std::string>& warnings) {
  RunConfig merged = saved;
  std::string refused;
  for (const FlagRule& rule : rules()) {
    if (!given_flags.count(rule.flag)) continue;
    const std::string was = rule.value(saved), now = rule.value(given);
    if (was == now) continue;
    if (rule.refused) {
      refused += (refused.empty() ? "" : "; ") + std::string(rule.flag) + " saved " + was + ", given " + now;
    } else {
      rule.apply(merged, given);
      warnings.push_back(std::string(rule.flag) + " " + now + " replaces the saved " + was);
    }
  }
  if (!refused.empty())
    throw RunFolderConflict("--resume: flags differ from the run saved in '" + run_dir +
                            "' and would change its model, data or optimiser state: " + refused +
                            " (drop them to continue the run, or start a new one with another --out)");
  // The run length may be extended on resume: a new length replaces all three of the saved.
  if (given_flags.count("--steps") || given_flags.count("--epochs") || given_flags.count("--minutes")) {
    const auto length = [](const RunConfig& c) {
      std::string s;
      if (c.steps) s += "--steps " + show(double(c.steps)) + " ";
      if (c.epochs) s += "--epochs " + show(c.epochs) + " ";
      if (c.minutes) s += "--minutes " + show(c.minutes) + " ";
      return s.empty() ? std::string("none") : s.substr(0, s.size() - 1);
    };
    if (length(saved) != length(given))
      warnings.push_back("run length " + length(given) + " replaces the saved " + length(saved));
    merged.steps = given.steps;
    merged.epochs = given.epochs;
    merged.minutes = given.minutes;
  }
  return merged;
}

}  // namespace fz::cli
