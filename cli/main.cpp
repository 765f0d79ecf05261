// cli/main.cpp — the `flowzoo` command line: parses flags with CLI11 into the request structs
// of cli/commands.hpp and turns every error into one line on stderr and a non-zero exit.
#include <cstdio>
#include <exception>
#include <new>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/flag_checks.hpp"
#include "cli/interrupt.hpp"
#include "cli/ode_flags.hpp"
#include "cli/transformer_flags.hpp"
#include "datasets/toy2d.hpp"
#include "tensor/reference_mode.hpp"

using namespace fz::cli;

namespace {

// Numeric flag values checked as text (cli/flag_checks.hpp): readable ranges in the message,
// no NaN or inf, no negative number wrapped into an unsigned one. Use ->transform(whole(..))
// (it rewrites "1e6" as digits for the converter) and ->check(real(..)).
CLI::Validator whole(std::uint64_t lo, std::uint64_t hi) {
  return CLI::Validator([=](std::string& s) { return check_whole_number(s, lo, hi); }, whole_range_text(lo, hi));
}
CLI::Validator real(double lo, double hi, bool open_lo = false, bool open_hi = false) {
  return CLI::Validator([=](std::string& s) { return check_real_number(s, lo, hi, open_lo, open_hi); },
                        real_range_text(lo, hi, open_lo, open_hi));
}
// Temperatures: a list of numbers in (0, 10] ("none" passes where `none_ok`).
CLI::Validator temperature_list(bool none_ok) {
  return CLI::Validator(
      [=](std::string& s) { return none_ok && s == "none" ? "" : check_real_list(s, 0, 10, true, false, 64); },
      "LIST in (0, 10]");
}
// Density --range: LO,HI, finite, LO < HI.
CLI::Validator range_pair() {
  return CLI::Validator([](std::string& s) -> std::string {
    const std::string why = check_real_list(s, -1e6, 1e6, false, false, 2);
    if (!why.empty()) return why;
    const std::vector<double> v = parse_real_list(s);
    if (v.size() != 2 || !(v[0] < v[1])) return "must be two numbers LO,HI with LO < HI, got '" + s + "'";
    return "";
  }, "LO,HI");
}
// --density: a toy density's name (datasets/toy2d.hpp, aliases included), so a typo is a bad flag.
CLI::Validator toy_density() {
  return CLI::Validator([](std::string& s) -> std::string {
    try {
      fz::toy2d_from_name(s);
      return "";
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
  }, "NAME");
}
// zoo --densities: "all" or a comma-separated list of toy densities.
CLI::Validator toy_density_list() {
  return CLI::Validator([](std::string& s) -> std::string {
    if (s == "all") return "";
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');) {
      std::string one = item;
      if (const std::string why = toy_density().operator()(one); !why.empty()) return why;
    }
    return "";
  }, "LIST");
}
constexpr std::uint64_t kMaxCount = RunLimits::kMaxSteps;  // limits, intervals, rows: any sane count
// eval / inspect --limit: on toy data the examples are drawn (2 floats each) before the
// evaluation, so the limit sizes an allocation; 10 million points are 80 MB.
constexpr std::uint64_t kMaxExamples = 10000000;
// eval --importance-samples: each sample is one more pass over the evaluated images.
constexpr std::uint64_t kMaxImportanceSamples = 4096;

std::vector<double> parse_list(const std::string& text, const char* flag) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      std::size_t used = 0;
      out.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw FlagError(std::string(flag) + ": '" + item + "' is not a number");
    }
  }
  if (out.empty()) throw FlagError(std::string(flag) + " needs at least one number");
  return out;
}

// sample / density --range LO,HI (range_pair has already checked it) into its two ends.
void parse_range(const std::string& text, double& lo, double& hi) {
  const std::vector<double> lohi = parse_list(text, "--range");
  if (lohi.size() != 2) throw FlagError("--range needs two numbers LO,HI");
  lo = lohi[0];
  hi = lohi[1];
}

const char* const kModelHelp =
    "Model family: nice | realnvp | glow | nsf (neural spline flow: 2-D data --couplings spline couplings, default 8, "
    "MLP 1 -> --hidden 64 x --blocks 2; images: glow with --transformer spline, the Glow multi-scale skeleton with "
    "spline couplings) | maf (masked autoregressive flow: --couplings MAF layers, default 5, with reversals, MADE "
    "--hidden 64 x --blocks 2, --transformer affine or spline; images: flattened logit(0.05) pixels, D = C*H*W, and "
    "sampling costs D MADE passes per layer: slow on images) | resflow (2-D only: residual flow, --couplings i-ResNet "
    "blocks x + g(x), default 32, each after an ActNorm, g a spectrally normalised LipSwish MLP --hidden 32 x --blocks 2 "
    "with Lipschitz 0.97; training log-det by the Russian-roulette estimator, eval exact; sampled by fixed-point "
    "inversion; no --transformer; toy lr 5e-3) "
    "| ffjord (2-D data: a continuous normalizing flow, "
    "--couplings CNF blocks, default 1, each dz/dt = MLP(z, t) of --blocks 3 tanh layers of --hidden 64, integrated "
    "by --ode-solver; exact trace; no transformer) "
    "| flowpp (images: Flow++ couplings in the Glow skeleton, --levels x --steps-per-level steps of ActNorm, 1x1 "
    "convolution and a logistic-mixture coupling of --mixtures components, conditioned by Flow++'s gated residual "
    "network of --hidden 32 x --blocks 2, --weight-norm optional, --attention-heads for self-attention)";
const char* const kTransformerHelp =
    "RealNVP, Glow (and MAF: affine | spline; NSF: spline): the couplings' elementwise map: affine (the default; "
    "RealNVP x * exp(scale * tanh(s)) + t, Glow (x + shift) * sigmoid(pre + 2)) | additive (x + t, volume-preserving "
    "as in NICE; on Glow the same as --additive) | spline (rational-quadratic, --bins K on [-B, B] = --tail-bound, "
    "identity outside) | mixture (Flow++ logistic-mixture CDF, --mixtures K)";

// --bins, --tail-bound, --mixtures (checked against the transformer by apply_transformer_flags).
void add_transformer_options(CLI::App* cmd, TransformerFlags& f) {
  cmd->add_option("--bins", f.bins, "Spline transformer: bins K (default 8)")->transform(whole(2, RunLimits::kMaxBins));
  cmd->add_option("--tail-bound", f.tail_bound, "Spline transformer: the spline acts on [-B, B], identity outside (default 3)")
      ->check(real(0, RunLimits::kMaxTailBound, true));
  cmd->add_option("--mixtures", f.mixtures, "Mixture transformer: logistic components K (default 4)")
      ->transform(whole(1, RunLimits::kMaxMixtures));
}

// ffjord's solver: --ode-solver, --ode-steps, --ode-rtol, --ode-atol (checked by apply_ode_flags).
void add_ode_options(CLI::App* cmd, OdeFlags& f) {
  cmd->add_option("--ode-solver", f.solver,
                  "ffjord: rk4 (fixed steps, --ode-steps) | dopri5 (adaptive Dormand-Prince 5(4), --ode-rtol and "
                  "--ode-atol; the default)")
      ->check(CLI::IsMember({"rk4", "dopri5"}));
  cmd->add_option("--ode-steps", f.steps, "ffjord, --ode-solver rk4: steps over [0, 1] (default 8)")
      ->transform(whole(1, RunLimits::kMaxOdeSteps));
  cmd->add_option("--ode-rtol", f.rtol, "ffjord, --ode-solver dopri5: relative tolerance (default 1e-4)")
      ->check(real(0, 1, true, true));
  cmd->add_option("--ode-atol", f.atol, "ffjord, --ode-solver dopri5: absolute tolerance (default 1e-4)")
      ->check(real(0, 1, true, true));
}

// The flags train, tape and profile share, each declared once (one name, help, default and
// range everywhere). `ModelFlags` holds what is not a RunConfig field as such.
struct ModelFlags {
  bool additive = false, plain_1x1 = false;
  std::size_t batch = 0;  // 0 = the data's default (finish_model_flags)
  TransformerFlags transformer_flags;
  OdeFlags ode_flags;
};

// --seed and --threads, on every command that draws random numbers / computes.
void add_seed_flag(CLI::App* cmd, std::uint64_t& seed, const char* help) {
  cmd->add_option("--seed", seed, help)->capture_default_str()->transform(whole(0, UINT64_MAX));
}
void add_threads_flag(CLI::App* cmd, int& threads, const char* help = "Worker threads (0 = all cores)") {
  CLI::Option* o = cmd->add_option("--threads", threads, help)->transform(whole(0, RunLimits::kMaxThreads));
  if (threads >= 0) o->capture_default_str();  // -1 = "as the run was trained": said by the help instead
}
// --split and --limit of the commands that read a run's data (eval, inspect, latents).
void add_split_flag(CLI::App* cmd, std::string& split) {
  cmd->add_option("--split", split, "test | train")->capture_default_str()->check(CLI::IsMember({"test", "train"}));
}
void add_limit_flag(CLI::App* cmd, std::size_t& limit) {
  cmd->add_option("--limit", limit, "Use only the first N examples (0 = all)")->capture_default_str()
      ->transform(whole(0, kMaxExamples));
}

// Commands that load a checkpoint: without the flag, the thread count the run was trained with.
const char* const kLoadedThreadsHelp = "Worker threads (0 = all cores; default: the count the run was trained with)";
const char* const kRunSeedHelp = "Random seed (initialisation, data order, dequantization)";

// The data: --dataset, --data-dir, --density, --batch.
void add_data_flags(CLI::App* cmd, RunConfig& c, ModelFlags& f) {
  cmd->add_option("--dataset", c.dataset, "Data: fashion-mnist | mnist | cifar10 | folder | toy")
      ->capture_default_str()->check(CLI::IsMember({"fashion-mnist", "mnist", "cifar10", "folder", "toy"}));
  cmd->add_option("--data-dir", c.data_dir, "Directory of the dataset files (fashion-mnist defaults to Debian's)");
  cmd->add_option("--density", c.density,
                  "2-D density for --dataset toy: moons | circles | 8gaussians | checkerboard | pinwheel | spirals | swissroll")
      ->capture_default_str()->check(toy_density());
  cmd->add_option("--batch", f.batch, "Batch size (default 64 for images, 512 for toy data)")->transform(whole(1, RunLimits::kMaxBatch));
}

// The model: --model and its architecture flags (the coupling transformer's included).
void add_model_flags(CLI::App* cmd, RunConfig& c, ModelFlags& f) {
  cmd->add_option("--model", c.model.model, kModelHelp)
      ->capture_default_str()->check(CLI::IsMember({"nice", "realnvp", "glow", "nsf", "maf", "resflow", "ffjord", "flowpp"}));
  cmd->add_option("--levels", c.model.levels, "Glow levels L / RealNVP scales")->capture_default_str()->transform(whole(1, RunLimits::kMaxLevels));
  cmd->add_option("--steps-per-level", c.model.steps_per_level, "Glow steps K per level")
      ->capture_default_str()->transform(whole(1, RunLimits::kMaxStepsPerLevel));
  cmd->add_option("--hidden", c.model.hidden, "Conditioner width (default: the model's)")->transform(whole(1, RunLimits::kMaxHidden));
  cmd->add_option("--blocks", c.model.blocks, "Residual blocks (RealNVP) or MLP hidden layers")->transform(whole(1, RunLimits::kMaxBlocks));
  cmd->add_option("--couplings", c.model.couplings, "Couplings (NICE, toy models) or per group (RealNVP)")->transform(whole(1, RunLimits::kMaxCouplings));
  cmd->add_flag("--additive", f.additive, "Glow: additive instead of affine couplings");
  cmd->add_flag("--plain-1x1", f.plain_1x1, "Glow: plain (slogdet) instead of LU-decomposed 1x1 convolutions");
  cmd->add_flag("--learn-top", c.model.learn_top, "Glow: learned diagonal Gaussian top prior");
  cmd->add_flag("--weight-norm", c.model.weight_norm, "RealNVP, flowpp: weight-normalised conditioner convolutions");
  cmd->add_option("--attention-heads", c.model.attention_heads,
                  "flowpp: multi-head self-attention over the positions in every conditioner block, with this many "
                  "heads dividing --hidden (default 0: none)")
      ->transform(whole(0, RunLimits::kMaxAttentionHeads));
  cmd->add_option("--transformer", c.model.transformer,
                  kTransformerHelp)
      ->check(CLI::IsMember(fz::transformer_choices()));
  add_transformer_options(cmd, f.transformer_flags);
  add_ode_options(cmd, f.ode_flags);
}

// Model and data flags picking a model and its data for `tape` and `profile`: the same as train's.
void add_study_flags(CLI::App* cmd, RunConfig& c, ModelFlags& f) {
  add_model_flags(cmd, c, f);
  add_data_flags(cmd, c, f);
  add_seed_flag(cmd, c.seed, kRunSeedHelp);
  add_threads_flag(cmd, c.threads);
}

// Turns the parsed ModelFlags into the configuration, after the --transformer check
// (cli/transformer_flags.hpp: FlagError, exit 2, for a combination that cannot be built).
void finish_model_flags(RunConfig& c, const ModelFlags& f, bool transformer_typed) {
  apply_transformer_flags(c, f.additive, f.transformer_flags, transformer_typed);
  apply_ode_flags(c, f.ode_flags);
  if (c.model.attention_heads > 0 && c.model.model != "flowpp")
    throw FlagError("--attention-heads is for flowpp's conditioner, not " + c.model.model);
  c.model.affine = !f.additive;
  c.model.lu = !f.plain_1x1;
  c.batch = f.batch ? f.batch : (c.dataset == "toy" ? 512 : 64);
}

// train --config: `c` and the flags' own variables take the values of a run's config.json, so
// that parsing the command line again overrides only what it gives.
void start_from_config(const RunConfig& file, RunConfig& c, ModelFlags& f, std::size_t& sample_every,
                       std::string& on_divergence) {
  c = file;
  f.batch = file.batch;
  f.additive = !file.model.affine;
  f.plain_1x1 = !file.model.lu;
  sample_every = file.sample_every;
  on_divergence = fz::to_string(file.train.divergence.policy);
}

// --reference-ops on a command that computes: every fused op runs its plain composition of
// primitive ops (tensor/reference_mode.hpp). Set while parsing, so before any work.
void add_reference_ops_flag(CLI::App* cmd) {
  cmd->add_flag_callback("--reference-ops", [] { fz::set_reference_ops(true); },
                         "Run every fused op as its plain composition of primitive ops (the readable path: "
                         "slower, same results to float rounding; FZ_REFERENCE_OPS=1 does the same)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"flowzoo — normalizing flows (NICE, RealNVP, Glow) on a from-scratch autodiff"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("flowzoo ") + FLOWZOO_VERSION, "Print the version and exit");

  // ---- train ----
  TrainRequest train;
  RunConfig& c = train.config;
  c.minutes = 0;
  std::size_t sample_every = 1000;
  ModelFlags train_flags;
  auto* t = app.add_subcommand("train", "Train a flow by maximum likelihood");
  t->footer("The --out folder is locked for the whole run (train.lock holds the PID); an existing run in it is "
            "never replaced without --force. Ctrl-C or SIGTERM finishes the step (or evaluation batch) and keeps a "
            "finite checkpoint. Before building anything, the memory the model and batch need is estimated and a "
            "run that cannot fit in this machine's memory is refused (FZ_MEMORY_LIMIT_BYTES=<bytes> sets another "
            "limit). Exit codes: 0 done, 1 bad input or --out in use, 2 bad flag (or one the run folder "
            "contradicts), 3 diverged (the last finite checkpoint is kept), 130 SIGINT, 143 SIGTERM."
            " Over MPI (a build with OpenMPI): mpirun -np N flowzoo train ... trains data parallel; --batch is the "
            "global batch, split evenly among the N ranks; rank 0 alone writes the run (README \"Training on several "
            "machines\").");
  add_model_flags(t, c, train_flags);
  add_data_flags(t, c, train_flags);
  t->add_option("--steps", c.steps, "Train for N optimiser steps")->transform(whole(1, RunLimits::kMaxSteps));
  t->add_option("--epochs", c.epochs, "Train for N passes over the training set")->check(real(0, RunLimits::kMaxEpochs, true));
  t->add_option("--minutes", c.minutes, "Train for M minutes of wall-clock time (default 10 when no length is given)")
      ->check(real(0, RunLimits::kMaxMinutes, true));
  t->add_option("--lr", c.train.lr, "Learning rate (default 1e-3; the per-family recipe: see --warmup)")
      ->check(real(0, RunLimits::kMaxLr, true));
  add_seed_flag(t, c.seed, kRunSeedHelp);
  add_threads_flag(t, c.threads);
  t->add_option("--out", train.out_dir, "Output directory (locked while training: one run per folder)")
      ->capture_default_str();
  auto* resume_flag = t->add_flag("--resume", train.resume,
                                  "Continue the run in --out from its checkpoint (refuses flags that change the model "
                                  "or data; warns for the ones it applies, e.g. --lr, --threads, --steps)");
  t->add_flag("--force", train.force,
              "If --out already holds a run, move its files (checkpoint, config, metrics, samples, plots) to the "
              "sibling folder <out>.old-<YYYYmmdd-HHMMSS> and start a new run (without --force or --resume: exit 2)")
      ->excludes(resume_flag);
  std::string config_file;
  t->add_option("--config", config_file,
                "Rerun a run from its config.json (e.g. runs/latest/config.json): every setting of that run, then "
                "the flags given on the command line override it (a --steps, --epochs or --minutes replaces the "
                "file's length; --out is not in the file, give it). A missing or corrupt file, or a field this "
                "flowzoo does not know, exits 1")
      ->excludes(resume_flag);
  t->add_option("--optimizer", c.train.optimizer, "adam | adamax | adamw | sgd")
      ->capture_default_str()->check(CLI::IsMember({"adam", "adamax", "adamw", "sgd"}));
  t->add_option("--warmup", c.train.warmup_steps,
                "Linear learning-rate warmup steps. Default recipe (the one measured to train stably): image data "
                "(glow, realnvp, nice, nsf, maf) lr 1e-3, warmup 200, clip 50; toy 2-D data lr 1e-3 (resflow 5e-3), warmup 0, clip 0")
      ->transform(whole(0, RunLimits::kMaxSteps));
  t->add_option("--schedule", c.train.schedule,
                "Learning rate after the --warmup: constant | cosine (from --lr down to --lr-min at "
                "--schedule-steps, by default the run's last step; needs --steps or --epochs) | step (x "
                "--schedule-gamma every --schedule-step-every steps). Saved in config.json; --resume continues it")
      ->capture_default_str()->check(CLI::IsMember({"constant", "cosine", "step"}));
  t->add_option("--lr-min", c.train.lr_min, "--schedule cosine: the final learning rate")
      ->capture_default_str()->check(real(0, RunLimits::kMaxLr));
  t->add_option("--schedule-steps", c.train.schedule_steps,
                "--schedule cosine: the step where --lr-min is reached, warmup included (default: the run's length)")
      ->transform(whole(1, RunLimits::kMaxSteps));
  t->add_option("--schedule-step-every", c.train.schedule_step_every, "--schedule step: steps between decays")
      ->capture_default_str()->transform(whole(1, RunLimits::kMaxSteps));
  t->add_option("--schedule-gamma", c.train.schedule_gamma, "--schedule step: the factor of each decay")
      ->capture_default_str()->check(real(0, 1, true));
  t->add_option("--clip", c.train.clip_grad_norm, "Clip the global gradient norm (0 = off; default: the recipe, see --warmup)")
      ->check(real(0, RunLimits::kMaxClip));
  std::string on_divergence = "recover";
  t->add_option("--on-divergence", on_divergence,
                "recover: a step whose loss or gradient norm is not finite, or whose loss is a spike (above the "
                "median of the last 100 accepted losses + 10 x their median absolute deviation + 1.0, once 10 "
                "are known), makes no update; the run rolls back to its last good in-memory snapshot (taken every "
                "100 steps: parameters, buffers, optimiser state, averages), multiplies the learning rate by 0.5, "
                "skips the batch and goes on, with a console line and a metrics.csv row (event column); more than "
                "5 recoveries within 1000 steps stop it (exit 3). stop: the first non-finite loss or gradient stops "
                "the run (exit 3), no spike rule")
      ->capture_default_str()->check(CLI::IsMember({"recover", "stop"}));
  t->add_option("--polyak", c.train.polyak_decay, "Polyak/EMA parameter averaging decay, e.g. 0.999 (0 = off)")
      ->capture_default_str()->check(real(0, 1, false, true));
  t->add_option("--memory-saving", c.train.memory_saving,
                "How the backward pass gets the activations: none (stored), checkpoint (each flow "
                "step's input stored, its forward recomputed) or invertible (nothing stored: inputs "
                "rebuilt with the inverse, ~1 extra forward + 1 inverse per step)")
      ->capture_default_str()->check(CLI::IsMember({"none", "checkpoint", "invertible"}));
  t->add_option("--dequantization", c.dequantization,
                "Images: how pixels become continuous data: uniform (x + u, u ~ U[0, 1)) | variational (a learned "
                "conditional flow q(u | x), Flow++ section 3.1, trained with the model: the bits/dim reported are "
                "then the variational bound -E_q[log p(x + u) - log q(u | x)]; eval --importance-samples tightens "
                "it). Saved in config.json; not for 2-D toy data")
      ->capture_default_str()->check(CLI::IsMember({"uniform", "variational"}));
  t->add_option("--dequant-hidden", c.dequant_hidden,
                "--dequantization variational: channels of q(u | x)'s feature net and coupling conditioners")
      ->capture_default_str()->transform(whole(1, RunLimits::kMaxDequantHidden));
  t->add_option("--bits", c.train.bits, "Image bit depth (n-bit reduction, Glow uses 5 on CelebA)")
      ->capture_default_str()->transform(whole(1, 8));
  t->add_option("--image-size", c.image_size, "Folder datasets: resize/crop to this size (default 32)")
      ->transform(whole(1, RunLimits::kMaxImageSize));
  t->add_option("--channels", c.channels, "Folder datasets: 1 (grey) or 3 (RGB)")->check(CLI::IsMember({1, 3}));
  t->add_option("--max-megapixels", c.max_megapixels,
                "Folder datasets: refuse images larger than this (width x height, from the header, before decoding)")
      ->capture_default_str()->check(real(0, 10000, true));
  t->add_option("--eval-every", c.eval_every,
                "Steps between test evaluations, into metrics.csv's test column (0 = off; toy runs too, on their "
                "fixed test sample)")
      ->capture_default_str()->transform(whole(0, kMaxCount));
  t->add_option("--eval-limit", c.eval_limit, "Test images in periodic evaluations")->capture_default_str()->transform(whole(0, kMaxCount));
  t->add_option("--final-eval-limit", c.final_eval_limit, "Test images in the final evaluation (0 = all)")
      ->capture_default_str()->transform(whole(0, kMaxCount));
  t->add_option("--sample-every", sample_every, "Steps between sample grids (0 = off)")->capture_default_str()->transform(whole(0, kMaxCount));
  t->add_option("--checkpoint-seconds", c.checkpoint_seconds, "Seconds between checkpoints")
      ->capture_default_str()->check(real(0, RunLimits::kMaxCheckpointSeconds, true));
  t->add_flag("--quiet", train.quiet, "Print nothing but errors (no progress, no summary, no warnings)");
  t->add_flag("--log-layers", train.log_layers,
              "At every --eval-every evaluation, also write each layer's share of the test bits/dim to layers.csv");
  t->add_flag("--log-y", train.log_y, "curve.png: a logarithmic loss axis (for runs whose loss falls by orders of magnitude; values <= 0 are left out)");
  t->add_flag("--conditional", train.conditional,
              "Class-conditional model (glow, nsf, realnvp on a labelled image dataset): each split prior and the "
              "top prior get a learned mean and log-sd per class, trained on -log p(x | y); saved in config.json "
              "(model.classes). sample --class K / --class-grid draw from one class; eval adds the Bayes-rule "
              "accuracy and the marginal bits/dim");
  bool train_profile = false;
  t->add_flag("--profile", train_profile, "Print time per op type (forward, backward) at the end (see `profile`)");
  t->add_flag("--memory-report", train.memory_report,
              "Print at the end where the memory went: tensor bytes at the training steps' peak split into "
              "parameter state (parameters, gradients, optimiser moments, divergence snapshot), activations and "
              "data, and the process's peak resident memory");

  // ---- eval ----
  EvalRequest eval;
  auto* e = app.add_subcommand("eval", "Evaluate a checkpoint: test bits/dim (images) or NLL (2-D)");
  e->add_option("--checkpoint", eval.checkpoint, "checkpoint.safetensors of a run")->required();
  add_split_flag(e, eval.split);
  add_limit_flag(e, eval.limit);
  add_threads_flag(e, eval.threads, kLoadedThreadsHelp);
  e->add_flag("--json", eval.json, "Print one JSON object (bpd, nll_nats, count) as the last line");
  e->footer("Class-conditional runs (train --conditional): bpd is -log p(x | y) with the true labels; also printed "
            "(and in the JSON): accuracy, the Bayes-rule classification argmax_k log p(x | k) + log p(k) with a "
            "uniform class prior p(k) = 1/K (every class scored on the same dequantization of the image), and "
            "marginal_bpd, -log sum_k p(x | k) p(k). --log-probs is not available for them.");
  e->add_option("--importance-samples", eval.importance_samples,
                "Images: S dequantization draws per image, combined as log (1/S) sum_s exp(log p(x + u_s) - "
                "log q(u_s | x)) (q uniform for uniformly dequantized runs): a tighter bound on log p(x) as S grows; "
                "S = 1 is the plain bound. Reported with its standard error over the images")
      ->capture_default_str()->transform(whole(1, kMaxImportanceSamples));
  e->add_option("--log-probs", eval.log_probs, "Also write FILE.safetensors: each evaluated example's log p(x) in nats (\"log_prob\", continuous density) and the exact inputs (\"inputs\": dequantized images in [0,1) or 2-D points), to check other implementations (python/flowzoo_torch.py)");

  // ---- sample ----
  SampleRequest sample;
  std::string temperature = "1.0", temperatures;
  auto* s = app.add_subcommand("sample", "Draw samples from a checkpoint into a PNG");
  s->add_option("--checkpoint", sample.checkpoint, "checkpoint.safetensors of a run")->required();
  s->add_option("--n", sample.n, "Number of samples")->capture_default_str()->transform(whole(1, 4096));
  s->add_option("--temperature", temperature, "Sampling temperature (scales the latent spread)")->capture_default_str()
      ->check(real(0, 10, true));
  s->add_option("--temperatures", temperatures, "Several temperatures side by side, e.g. 0.5,0.7,0.9,1.0")
      ->check(temperature_list(false));
  add_seed_flag(s, sample.seed, "Random seed");
  s->add_option("--out", sample.out, "Output PNG")->required();
  std::string sample_range = "-4,4";
  s->add_option("--upscale", sample.upscale, "Image models: draw each pixel as an N x N block (28-pixel tiles are small)")
      ->capture_default_str()->transform(whole(1, 8));
  s->add_option("--range", sample_range, "2-D models: LO,HI of both axes of the scatter")
      ->capture_default_str()->check(range_pair());
  add_threads_flag(s, sample.threads, kLoadedThreadsHelp);
  auto* class_flag = s->add_option("--class", sample.class_index,
                                   "Class-conditional runs: every sample from class K's prior, K from 0 to classes - 1 "
                                   "(Fashion-MNIST: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, "
                                   "6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot)")
                         ->transform(whole(0, RunLimits::kMaxClasses - 1));
  s->add_flag("--class-grid", sample.class_grid,
              "Class-conditional runs: one labelled row of min(--n, 16) samples per class (what a conditional run "
              "draws without --class)")
      ->excludes(class_flag);

  // ---- density ----
  DensityRequest density;
  std::string range = "-4,4";
  auto* d = app.add_subcommand("density", "Heatmap (and CSV) of a 2-D model's learned density");
  d->add_option("--checkpoint", density.checkpoint, "checkpoint.safetensors of a 2-D run")->required();
  d->add_option("--out", density.out, "Output PNG")->required();
  d->add_option("--csv", density.csv, "Also write x,y,log_prob over the grid");
  d->add_option("--range", range, "LO,HI of both axes")->capture_default_str()->check(range_pair());
  d->add_option("--grid", density.grid, "Grid points per axis")->capture_default_str()->transform(whole(2, 4000));
  d->add_flag("--log-density", density.log_density,
              "Colour by log p (the colour bar spans the 10 nats below the maximum) instead of p: shows the tails");
  add_threads_flag(d, density.threads, kLoadedThreadsHelp);

  // ---- inspect ----
  InspectRequest inspect;
  auto* in = app.add_subcommand("inspect", "Per-layer log-det breakdown: each bijector's share of the bits/dim, "
                                           "per-scale latent log-densities, the dequantization constant, the total");
  in->add_option("--checkpoint", inspect.checkpoint, "checkpoint.safetensors of a run")->required();
  add_split_flag(in, inspect.split);
  add_limit_flag(in, inspect.limit);
  in->add_option("--depth", inspect.depth, "0 = a row per bijector; 1 = a row per step of each scale (Glow step)")
      ->capture_default_str()->transform(whole(0, 16));
  add_threads_flag(in, inspect.threads, kLoadedThreadsHelp);
  in->add_flag("--json", inspect.json, "Print one JSON object (terms, bpd) instead of the table");

  // ---- latents ----
  LatentsRequest latents;
  std::string latent_temperatures = "0.5,0.7,0.9,1.0";
  auto* lt = app.add_subcommand("latents", "Latent views of an image model: latent channels per level, "
                                           "reconstructions, interpolations, samples per temperature (PNGs)");
  lt->add_option("--checkpoint", latents.checkpoint, "checkpoint.safetensors of an image run")->required();
  lt->add_option("--out", latents.out_dir, "Output directory")->required();
  add_split_flag(lt, latents.split);
  lt->add_option("--n", latents.n, "Images encoded and reconstructed")->capture_default_str()->transform(whole(1, 256));
  lt->add_option("--pairs", latents.pairs, "Interpolation rows (0 = none)")->capture_default_str()->transform(whole(0, 64));
  lt->add_option("--steps", latents.steps, "Points per interpolation, endpoints included")
      ->capture_default_str()->transform(whole(2, 64));
  lt->add_option("--channels", latents.channels, "Latent channels shown per level")
      ->capture_default_str()->transform(whole(1, 4096));
  lt->add_option("--temperatures", latent_temperatures, "Sample rows, one per temperature ('none' = no samples)")
      ->capture_default_str()->check(temperature_list(true));
  add_seed_flag(lt, latents.seed, "Random seed of the samples");
  add_threads_flag(lt, latents.threads, kLoadedThreadsHelp);
  lt->add_option("--upscale", latents.upscale, "Draw each pixel as an N x N block")->capture_default_str()->transform(whole(1, 8));

  // ---- tape ----
  TapeRequest tape;
  ModelFlags tape_flags;
  auto* tp = app.add_subcommand("tape", "What one training step records on the tape: nodes, bytes held for backward, "
                                        "totals per op, peak memory; the graph as DOT");
  add_study_flags(tp, tape.config, tape_flags);
  tp->add_option("--dot", tape.dot, "Also write the graph as Graphviz DOT to this file");
  tp->add_option("--max-nodes", tape.max_nodes, "Nodes listed (0 = all)")->capture_default_str()->transform(whole(0, kMaxCount));

  // ---- profile ----
  ProfileRequest profile;
  ModelFlags profile_flags;
  auto* pr = app.add_subcommand("profile", "Time per op type, forward and backward, over a few training steps");
  add_study_flags(pr, profile.config, profile_flags);
  pr->add_option("--steps", profile.steps, "Profiled training steps")
      ->capture_default_str()->transform(whole(1, 100000));
  pr->add_option("--warmup", profile.warmup, "Unprofiled steps first (ActNorm initialisation, first allocations)")
      ->capture_default_str()->transform(whole(0, 100000));
  pr->add_option("--rows", profile.rows, "Op types shown (0 = all)")->capture_default_str()->transform(whole(0, kMaxCount));
  pr->add_flag("--by-shape", profile.by_shape, "One row per op and shapes (inputs -> output), e.g. to tell convolutions apart");

  // ---- zoo ----
  ZooRequest zoo;
  std::string zoo_densities = "all", zoo_families;
  auto* zo = app.add_subcommand("zoo", "The gallery: every 2-D flow family trained on every toy density with one step "
                                       "budget; writes zoo.csv (family, density, test_nll, seconds) and zoo.png");
  zo->add_option("--out", zoo.out_dir, "Output directory")->required();
  zo->add_option("--steps", zoo.steps, "Training steps per family and density (batch 512)")
      ->capture_default_str()->transform(whole(1, 1000000));
  zo->add_option("--densities", zoo_densities,
                 "Comma-separated toy densities, or all: moons,circles,8gaussians,checkerboard,pinwheel,spirals,swissroll")
      ->capture_default_str()->check(toy_density_list());
  zo->add_option("--families", zoo_families, "Comma-separated families (model names or labels), or all; default: every family but the slow "
                 "resflow and ffjord (a step costs 10-25x a coupling flow's: name them, or all, to include them)");
  add_seed_flag(zo, zoo.seed, "Random seed");
  add_threads_flag(zo, zoo.threads);
  zo->add_flag("--quiet", zoo.quiet, "Print nothing but errors");

  // ---- fit ----
  FitRequest fit;
  auto* ft = app.add_subcommand("fit", "Fit a flow to an unnormalised 2-D energy (Rezende & Mohamed's U1-U4) by "
                                       "minimising the reverse KL with reparametrised samples; writes fit.png and fit.json");
  ft->footer("The targets: exp(-U) for U1-U4 of Rezende & Mohamed (2015), Table 1. U2-U4 do not decay along z1, so "
             "each gets a soft wall 2 max(|z1| - 4, 0)^2 (a Gaussian fall-off of sd 0.5 beyond |z1| = 4) to make it "
             "normalisable; U1 is left as it is. log Z is integrated on a 2000 x 2000 grid over [-8, 8]^2, so the "
             "printed KL(q || p) = E_q[log q + U] + log Z (on 20000 fresh samples, with its standard error) is a "
             "KL, >= 0 within its error. fit.png: the target and the fitted density side by side on [-5, 5]^2; "
             "fit.json: energy, model, steps, kl, kl_standard_error, log_z, final_loss. Ctrl-C or SIGTERM ends "
             "the fit after the step and still writes both (exit 130 / 143); a non-finite loss exits 3.");
  ft->add_option("--energy", fit.energy, "Target energy: u1 | u2 | u3 | u4")->capture_default_str()
      ->check(CLI::IsMember({"u1", "u2", "u3", "u4"}));
  ft->add_option("--model", fit.model, "Flow: planar | radial (--layers K stacked layers on a standard normal) | "
                                       "realnvp | nsf (the 2-D presets of train; nsf with tail bound 5)")
      ->capture_default_str()->check(CLI::IsMember({"planar", "radial", "realnvp", "nsf"}));
  ft->add_option("--steps", fit.steps, "Adam steps")->capture_default_str()->transform(whole(1, RunLimits::kMaxSteps));
  ft->add_option("--out", fit.out_dir, "Output directory (fit.png, fit.json)")->required();
  ft->add_option("--batch", fit.batch, "Reparametrised samples per step")->capture_default_str()->transform(whole(2, 16384));
  ft->add_option("--lr", fit.lr, "Adam learning rate (default 1e-2 for planar and radial, 1e-3 for realnvp and nsf)")
      ->check(real(0, RunLimits::kMaxLr, true));
  ft->add_option("--layers", fit.layers, "planar / radial: layers K (default 32)")->transform(whole(1, 256));
  ft->add_option("--schedule", fit.schedule, "Learning rate: cosine (from --lr down to --lr / 100 at the last step) | constant")
      ->capture_default_str()->check(CLI::IsMember({"cosine", "constant"}));
  add_seed_flag(ft, fit.seed, "Random seed (initialisation and samples)");
  add_threads_flag(ft, fit.threads);
  ft->add_flag("--quiet", fit.quiet, "Print nothing but errors");
  add_reference_ops_flag(ft);

  for (CLI::App* cmd : {t, e, s, d, in, lt, tp, pr, zo}) add_reference_ops_flag(cmd);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& h) {
    return app.exit(h);
  } catch (const CLI::CallForAllHelp& h) {
    return app.exit(h);
  } catch (const CLI::CallForVersion& v) {
    return app.exit(v);
  } catch (const CLI::ParseError& err) {
    std::fprintf(stderr, "flowzoo: %s (see --help)\n", err.what());
    return 2;
  }

  try {
    if (t->parsed()) {
      if (!config_file.empty()) {
        // The file's settings first, then the command line again on top of them.
        start_from_config(read_config(config_file), c, train_flags, sample_every, on_divergence);
        app.clear();
        app.parse(argc, argv);
        const bool length_given = t->count("--steps") || t->count("--epochs") || t->count("--minutes");
        if (length_given) {  // a new length replaces the file's whole length
          if (!t->count("--steps")) c.steps = 0;
          if (!t->count("--epochs")) c.epochs = 0;
          if (!t->count("--minutes")) c.minutes = 0;
        }
        if (!t->count("--schedule-steps")) c.train.schedule_steps = 0;  // re-derived from the run's length
        // Another --model: the file's transformer was resolved for its own model.
        if (t->count("--model") && !t->count("--transformer")) c.model.transformer.clear();
      }
      finish_model_flags(c, train_flags, t->count("--transformer") > 0);
      c.sample_every = sample_every;
      const bool from_file = !config_file.empty();
      apply_training_recipe(c, from_file || t->count("--lr") > 0, from_file || t->count("--warmup") > 0,
                            from_file || t->count("--clip") > 0);
      c.train.divergence.policy = fz::divergence_policy_from(on_divergence);
      if (!c.steps && !c.epochs && !c.minutes && !train.resume) {
        if (c.dataset == "toy") c.steps = 2000;
        else c.minutes = 10;
      }
      for (const CLI::Option* o : t->get_options())  // what --resume compares with the saved run
        if (o->count() > 0 && !o->get_lnames().empty()) train.given_flags.insert("--" + o->get_lnames().front());
      return train_profile ? run_train_profiled(train) : run_train(train);
    }
    if (tp->parsed()) {
      finish_model_flags(tape.config, tape_flags, tp->count("--transformer") > 0);
      return run_tape(tape);
    }
    if (pr->parsed()) {
      finish_model_flags(profile.config, profile_flags, pr->count("--transformer") > 0);
      return run_profile(profile);
    }
    if (e->parsed()) return run_eval(eval);
    if (s->parsed()) {
      sample.temperatures = parse_list(temperatures.empty() ? temperature : temperatures,
                                       temperatures.empty() ? "--temperature" : "--temperatures");
      parse_range(sample_range, sample.lo, sample.hi);
      return run_sample(sample);
    }
    if (d->parsed()) {
      parse_range(range, density.lo, density.hi);
      return run_density(density);
    }
    if (in->parsed()) return run_inspect(inspect);
    if (zo->parsed()) {
      auto split_names = [](const std::string& text) {
        std::vector<std::string> out;
        std::stringstream in(text);
        for (std::string item; std::getline(in, item, ',');)
          if (!item.empty()) out.push_back(item);
        return out;
      };
      zoo.densities = split_names(zoo_densities);
      zoo.families = split_names(zoo_families);
      install_interrupt_handler();
      return run_zoo(zoo);
    }
    if (ft->parsed()) {
      install_interrupt_handler();
      return run_fit(fit);
    }
    if (lt->parsed()) {
      latents.temperatures.clear();
      if (latent_temperatures != "none") latents.temperatures = parse_list(latent_temperatures, "--temperatures");
      return run_latents(latents);
    }
  } catch (const FlagError& ex) {  // a flag value found wrong after parsing: as any bad flag
    std::fprintf(stderr, "flowzoo: %s\n", ex.what());
    return 2;
  } catch (const std::bad_alloc&) {  // the last resort: the estimates of cli/memory_guard.hpp missed
    std::fprintf(stderr, "flowzoo: out of memory: this machine could not give the run the memory it asked for; "
                         "try a smaller --batch or model (or free memory)\n");
    return kExitError;
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "flowzoo: %s\n", ex.what());
    return kExitError;
  }
  return kExitError;
}
