// flows/presets.cpp — assembling NICE, RealNVP, Glow, NSF and MAF (image and 2-D forms), FFJORD (2-D) and Flow++ (images) from bijectors.
#include "flows/presets.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "flows/bijectors/actnorm.hpp"
#include "flows/bijectors/coupling_factories.hpp"
#include "flows/bijectors/diagonal_scaling.hpp"
#include "flows/bijectors/ffjord.hpp"
#include "flows/bijectors/invertible_conv1x1.hpp"
#include "flows/bijectors/masked_autoregressive.hpp"
#include "flows/bijectors/partition.hpp"
#include "flows/bijectors/preprocessing.hpp"
#include "flows/bijectors/residual_block.hpp"
#include "flows/bijectors/squeeze.hpp"
#include "flows/transformers/registry.hpp"

namespace fz {

namespace {

bool is_vector_data(const Shape& event) { return event.size() == 1; }

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

std::size_t or_default(std::size_t v, std::size_t d) { return v ? v : d; }

// The configured transformer for couplings with k transformed channels. "affine" is the
// family's affine map: Glow's sigmoid scale on images, the tanh log-scale (learned scale on
// RealNVP's images) otherwise.
template <typename T>
std::shared_ptr<Transformer<T>> coupling_transformer(const PresetConfig& c, std::size_t k, bool learned_scale,
                                                     bool glow_images) {
  TransformerOptions o;
  o.channels = k;
  o.learned_scale = learned_scale;
  o.bins = c.bins;
  o.tail_bound = c.tail_bound;
  o.mixtures = c.mixtures;
  return make_transformer<T>(glow_images && c.transformer == "affine" ? "sigmoid-affine" : c.transformer, o);
}

template <typename T>
std::shared_ptr<FlowModel<T>> single_scale(const PresetConfig& c, std::shared_ptr<Chain<T>> pre,
                                           std::shared_ptr<Chain<T>> flow,
                                           std::shared_ptr<Distribution<T>> base) {
  std::vector<typename FlowModel<T>::Scale> scales = {{flow, nullptr}};
  return std::make_shared<FlowModel<T>>(c.event_shape, pre, scales, base);
}

// NICE: additive couplings on even/odd halves, then a diagonal scaling; logistic base.
template <typename T>
std::shared_ptr<FlowModel<T>> make_nice(const PresetConfig& c, Rng& rng) {
  auto pre = std::make_shared<Chain<T>>();
  if (!is_vector_data(c.event_shape)) pre->add(std::make_shared<Flatten<T>>(c.event_shape));
  const std::size_t d = shape_numel(c.event_shape);
  auto flow = std::make_shared<Chain<T>>();
  for (std::size_t i = 0; i < c.couplings; ++i)
    flow->add(make_mlp_additive_coupling<T>(d, i % 2 == 1, c.hidden, c.blocks, rng));
  flow->add(std::make_shared<DiagonalScaling<T>>(Shape{d}));
  return single_scale<T>(c, pre, flow, std::make_shared<StandardLogistic<T>>());
}

// RealNVP on images: checkerboard / squeeze / channel-wise groups with factor-out.
template <typename T>
std::shared_ptr<FlowModel<T>> make_realnvp_images(const PresetConfig& c, Rng& rng) {
  auto pre = std::make_shared<Chain<T>>();
  pre->add(std::make_shared<Logit<T>>(T(0.05)));
  std::size_t channels = c.event_shape[0];
  auto coupling = [&](std::size_t ch, PartitionKind kind, bool parity) {
    const Partition p{kind, parity};
    return make_resnet_coupling<T>(ch, p, c.hidden, c.blocks, rng, c.weight_norm,
                                   coupling_transformer<T>(c, p.transformed_channels(ch), /*learned_scale=*/true, false));
  };
  std::vector<typename FlowModel<T>::Scale> scales;
  for (std::size_t s = 0; s < c.levels; ++s) {
    auto flow = std::make_shared<Chain<T>>();
    for (std::size_t i = 0; i < c.couplings; ++i)
      flow->add(coupling(channels, PartitionKind::Checkerboard, i % 2 == 1));
    flow->add(std::make_shared<Squeeze<T>>());
    channels *= 4;
    for (std::size_t i = 0; i < c.couplings; ++i)
      flow->add(coupling(channels, PartitionKind::ChannelHalves, i % 2 == 1));
    scales.push_back({flow, std::make_shared<Split<T>>(channels, /*learned_prior=*/false)});
    channels /= 2;
  }
  auto top = std::make_shared<Chain<T>>();
  for (std::size_t i = 0; i <= c.couplings; ++i)
    top->add(coupling(channels, PartitionKind::Checkerboard, i % 2 == 1));
  scales.push_back({top, nullptr});
  return std::make_shared<FlowModel<T>>(c.event_shape, pre, scales, std::make_shared<StandardNormal<T>>());
}

// The multi-scale skeleton Glow and Flow++ share: centering (x - 1/2) -> per level: squeeze ->
// K steps -> split with a learned conditional prior (not on the last level); a standard normal
// top, or a learned diagonal Gaussian with learn_top. make_step(channels, h, w) builds one step
// at that level's squeezed size, called in order (the steps' parameters draw from rng in it).
template <typename T, typename MakeStep>
std::shared_ptr<FlowModel<T>> make_multiscale_images(const PresetConfig& c, const MakeStep& make_step) {
  auto pre = std::make_shared<Chain<T>>();
  pre->add(std::make_shared<AffineScalar<T>>(T(1), T(-0.5)));
  std::size_t channels = c.event_shape[0];
  std::size_t h = c.event_shape[1], w = c.event_shape[2];
  std::vector<typename FlowModel<T>::Scale> scales;
  for (std::size_t level = 0; level < c.levels; ++level) {
    auto flow = std::make_shared<Chain<T>>();
    flow->add(std::make_shared<Squeeze<T>>());
    channels *= 4;
    h /= 2;
    w /= 2;
    for (std::size_t k = 0; k < c.steps_per_level; ++k) flow->add(make_step(channels, h, w));
    const bool last = level + 1 == c.levels;
    scales.push_back({flow, last ? nullptr : std::make_shared<Split<T>>(channels, /*learned_prior=*/true)});
    if (!last) channels /= 2;
  }
  std::shared_ptr<Distribution<T>> base;
  if (c.learn_top) base = std::make_shared<DiagonalGaussian<T>>(Shape{channels, h, w});
  else base = std::make_shared<StandardNormal<T>>();
  return std::make_shared<FlowModel<T>>(c.event_shape, pre, scales, base);
}

// Glow on images: each step ActNorm -> invertible 1x1 conv -> Glow coupling.
template <typename T>
std::shared_ptr<FlowModel<T>> make_glow_images(const PresetConfig& c, Rng& rng) {
  return make_multiscale_images<T>(c, [&](std::size_t channels, std::size_t, std::size_t) {
    auto tau = coupling_transformer<T>(c, channels / 2, false, true);
    return glow_step<T>(channels, c.hidden, rng, c.lu, tau);
  });
}

// Flow++ on images: the Glow skeleton whose steps' couplings are logistic-mixture CDFs
// conditioned by the gated residual network (1x1 convs LU or plain, as Glow's).
template <typename T>
std::shared_ptr<FlowModel<T>> make_flowpp_images(const PresetConfig& c, Rng& rng) {
  GatedResNetOptions net;
  net.features = c.hidden;
  net.blocks = c.blocks;
  net.weight_norm = c.weight_norm;
  net.attention_heads = c.attention_heads;
  const Partition halves{PartitionKind::ChannelHalves, false};
  return make_multiscale_images<T>(c, [&](std::size_t channels, std::size_t h, std::size_t w) {
    net.height = h;
    net.width = w;
    auto step = std::make_shared<Chain<T>>();
    step->add(std::make_shared<ActNorm<T>>(channels));
    if (c.lu) step->add(std::make_shared<InvConv1x1LU<T>>(channels, rng));
    else step->add(std::make_shared<InvConv1x1<T>>(channels, rng));
    step->add(make_gated_coupling<T>(channels, halves, net, rng, coupling_transformer<T>(c, channels / 2, false, false)));
    return step;
  });
}

// 2-D (vector) RealNVP: affine couplings alternating which coordinate moves.
template <typename T>
std::shared_ptr<FlowModel<T>> make_realnvp_vectors(const PresetConfig& c, Rng& rng) {
  const std::size_t d = c.event_shape[0];
  auto flow = std::make_shared<Chain<T>>();
  for (std::size_t i = 0; i < c.couplings; ++i)
    flow->add(make_mlp_coupling<T>(d, i % 2 == 1, c.hidden, c.blocks, rng,
                                   coupling_transformer<T>(c, d / 2, /*learned_scale=*/false, false)));
  return single_scale<T>(c, nullptr, flow, std::make_shared<StandardNormal<T>>());
}

// 2-D (vector) Glow: K steps of ActNorm -> invertible linear map (LU or plain) -> affine
// coupling with an MLP conditioner (the vector analogue of a Glow step).
template <typename T>
std::shared_ptr<FlowModel<T>> make_glow_vectors(const PresetConfig& c, Rng& rng) {
  const std::size_t d = c.event_shape[0];
  auto flow = std::make_shared<Chain<T>>();
  for (std::size_t k = 0; k < c.steps_per_level; ++k) {
    flow->add(std::make_shared<ActNorm<T>>(d));
    if (c.lu) flow->add(std::make_shared<InvConv1x1LU<T>>(d, rng));
    else flow->add(std::make_shared<InvConv1x1<T>>(d, rng));
    flow->add(make_mlp_coupling<T>(d, k % 2 == 1, c.hidden, c.blocks, rng,
                                   coupling_transformer<T>(c, d / 2, /*learned_scale=*/false, false),
                                   /*zero_init_last=*/true));
  }
  return single_scale<T>(c, nullptr, flow, std::make_shared<StandardNormal<T>>());
}

// NSF on 2-D data: `couplings` spline couplings on alternating coordinates, each with an MLP
// conditioner (1 -> hidden x blocks -> 3K - 1) whose last layer starts at the identity.
template <typename T>
std::shared_ptr<FlowModel<T>> make_nsf_vectors(const PresetConfig& c, Rng& rng) {
  const std::size_t d = c.event_shape[0];
  auto flow = std::make_shared<Chain<T>>();
  for (std::size_t i = 0; i < c.couplings; ++i) {
    auto tau = coupling_transformer<T>(c, d / 2, /*learned_scale=*/false, false);
    flow->add(make_mlp_coupling<T>(d, i % 2 == 1, c.hidden, c.blocks, rng, tau, /*zero_init_last=*/true));
  }
  return single_scale<T>(c, nullptr, flow, std::make_shared<StandardNormal<T>>());
}

// MAF: `couplings` MAF layers with reversals between them (make_maf), MADE hidden x blocks,
// on the vector itself (2-D) or on the flattened logit of an image (as RealNVP preprocesses).
template <typename T>
std::shared_ptr<FlowModel<T>> make_maf_flow(const PresetConfig& c, Rng& rng) {
  std::shared_ptr<Chain<T>> pre;
  if (!is_vector_data(c.event_shape)) {
    pre = std::make_shared<Chain<T>>();
    pre->add(std::make_shared<Logit<T>>(T(0.05)));
    pre->add(std::make_shared<Flatten<T>>(c.event_shape));
  }
  const std::size_t d = shape_numel(c.event_shape);
  const TransformerFactory<T> transformer = [&c, d] { return coupling_transformer<T>(c, d, /*learned_scale=*/false, false); };
  auto flow = make_maf<T>(d, c.couplings, c.hidden, c.blocks, transformer, rng);
  return single_scale<T>(c, pre, flow, std::make_shared<StandardNormal<T>>());
}

// Residual flow on 2-D data: `couplings` (32) times ActNorm -> ResidualBlock (x + g(x), g a
// spectrally normalised LipSwish MLP D -> hidden x blocks -> D, Lipschitz 0.97; training
// log-det by Russian roulette, eval exact: flows/bijectors/residual_block.hpp).
template <typename T>
std::shared_ptr<FlowModel<T>> make_resflow_vectors(const PresetConfig& c, Rng& rng) {
  const std::size_t d = c.event_shape[0];
  ResidualBlockOptions o;
  o.hidden = c.hidden;
  o.hidden_layers = c.blocks;
  auto flow = std::make_shared<Chain<T>>();
  for (std::size_t k = 0; k < c.couplings; ++k) {
    flow->add(std::make_shared<ActNorm<T>>(d));
    flow->add(std::make_shared<ResidualBlock<T>>(d, o, rng));
  }
  return single_scale<T>(c, nullptr, flow, std::make_shared<StandardNormal<T>>());
}

// FFJORD on 2-D data: `couplings` CNF blocks, each with its own velocity MLP and probe seed.
template <typename T>
std::shared_ptr<FlowModel<T>> make_ffjord_vectors(const PresetConfig& c, Rng& rng) {
  const std::size_t d = c.event_shape[0];
  FfjordOptions options;
  options.solver.method = c.ode_solver;
  options.solver.steps = c.ode_steps;
  options.solver.rtol = c.ode_rtol;
  options.solver.atol = c.ode_atol;
  auto flow = std::make_shared<Chain<T>>();
  for (std::size_t i = 0; i < c.couplings; ++i) {
    auto dynamics = std::make_shared<OdeDynamics<T>>(d, c.hidden, c.blocks, rng);
    flow->add(std::make_shared<Ffjord<T>>(dynamics, options, rng.next_u64()));
  }
  return single_scale<T>(c, nullptr, flow, std::make_shared<StandardNormal<T>>());
}

}  // namespace

std::string default_transformer(const std::string& model) {
  if (model == "resflow" || model == "ffjord") return "";  // no couplings, so no transformer
  if (model == "flowpp") return "mixture";
  return model == "nice" ? "additive" : model == "nsf" ? "spline" : "affine";
}

std::string transformer_refusal(const std::string& model, const std::string& transformer) {
  if (model == "resflow")
    return transformer.empty() ? "" : "resflow has no transformer (its blocks are x + g(x) with a Lipschitz MLP g)";
  if (model == "ffjord")
    return transformer.empty() ? "" : "ffjord is a continuous flow without couplings: it takes no transformer";
  const std::vector<std::string> choices = transformer_choices();
  if (std::find(choices.begin(), choices.end(), transformer) == choices.end()) {
    std::string known;
    for (const std::string& name : choices) known += (known.empty() ? "" : ", ") + name;
    return "unknown; the transformers are " + known;
  }
  if (model == "nice" && transformer != "additive")
    return "nice's couplings are additive (a transformer is for realnvp, glow, nsf and maf)";
  if (model == "nsf" && transformer != "spline")
    return "nsf's couplings are splines (use realnvp or glow for another transformer)";
  if (model == "flowpp" && transformer != "mixture")
    return "flowpp's couplings are logistic mixtures (use realnvp or glow for another transformer)";
  if (model == "maf" && transformer != "affine" && transformer != "spline") return "maf takes affine or spline";
  return "";
}

PresetConfig resolve_preset(PresetConfig c) {
  if (c.event_shape.empty() || shape_numel(c.event_shape) == 0)
    bad("model: the data shape " + shape_str(c.event_shape) + " is empty");
  const bool vec = is_vector_data(c.event_shape);
  if (!vec && c.event_shape.size() != 3) bad("model: image data must be (C, H, W), got " + shape_str(c.event_shape));
  if (c.model == "nice") {
    c.couplings = or_default(c.couplings, vec ? 4 : 4);
    c.hidden = or_default(c.hidden, vec ? 64 : 1000);
    c.blocks = or_default(c.blocks, vec ? 2 : 5);
    if (shape_numel(c.event_shape) % 2 != 0) bad("nice: needs an even number of dimensions");
  } else if (c.model == "realnvp") {
    c.couplings = or_default(c.couplings, vec ? 8 : 3);
    c.hidden = or_default(c.hidden, vec ? 64 : 32);
    c.blocks = or_default(c.blocks, 2);
    if (!vec) {
      const std::size_t m = std::size_t(1) << c.levels;
      if (c.event_shape[1] % m != 0 || c.event_shape[2] % m != 0)
        bad("realnvp: image height and width must be divisible by 2^levels = " + std::to_string(m));
    } else if (c.event_shape[0] % 2 != 0) {
      bad("realnvp: needs an even number of dimensions");
    }
  } else if (c.model == "glow") {
    c.hidden = or_default(c.hidden, vec ? 64 : 128);
    c.blocks = or_default(c.blocks, 2);
    if (c.levels == 0 || c.steps_per_level == 0) bad("glow: levels and steps-per-level must be at least 1");
    if (!vec) {
      const std::size_t m = std::size_t(1) << c.levels;
      if (c.event_shape[1] % m != 0 || c.event_shape[2] % m != 0)
        bad("glow: image height and width must be divisible by 2^levels = " + std::to_string(m) +
            " (got " + std::to_string(c.event_shape[1]) + "x" + std::to_string(c.event_shape[2]) + ")");
    } else if (c.event_shape[0] % 2 != 0) {
      bad("glow: needs an even number of dimensions");
    }
  } else if (c.model == "nsf" && vec) {
    c.couplings = or_default(c.couplings, 8);
    c.hidden = or_default(c.hidden, 64);
    c.blocks = or_default(c.blocks, 2);
    if (c.event_shape[0] % 2 != 0) bad("nsf: needs an even number of dimensions");
  } else if (c.model == "nsf") {  // images: the Glow skeleton with spline couplings
    c.hidden = or_default(c.hidden, 128);
    c.blocks = or_default(c.blocks, 2);
    if (c.levels == 0 || c.steps_per_level == 0) bad("nsf: levels and steps-per-level must be at least 1");
    const std::size_t m = std::size_t(1) << c.levels;
    if (c.event_shape[1] % m != 0 || c.event_shape[2] % m != 0)
      bad("nsf: image height and width must be divisible by 2^levels = " + std::to_string(m));
  } else if (c.model == "maf") {
    c.couplings = or_default(c.couplings, 5);
    c.hidden = or_default(c.hidden, 64);
    c.blocks = or_default(c.blocks, 2);
    if (shape_numel(c.event_shape) < 2) bad("maf: needs at least two dimensions");
  } else if (c.model == "resflow") {
    // Many narrow blocks: two moons, 400 steps at lr 5e-3, test NLL 1.89 with 8 x 128 (it stays
    // at the Gaussian fit for ~1000 steps), 0.90 with 16 x 64, 0.49 with 32 x 32, 0.36 with 48 x 32.
    c.couplings = or_default(c.couplings, 32);
    c.hidden = or_default(c.hidden, 32);
    c.blocks = or_default(c.blocks, 2);
    if (!vec) bad("resflow: vector (2-D toy) data only, not images");
  } else if (c.model == "flowpp") {
    if (vec) bad("flowpp: images only (its conditioner is convolutional), not 2-D data");
    c.hidden = or_default(c.hidden, 32);
    c.blocks = or_default(c.blocks, 2);
    if (c.levels == 0 || c.steps_per_level == 0) bad("flowpp: levels and steps-per-level must be at least 1");
    const std::size_t m = std::size_t(1) << c.levels;
    if (c.event_shape[1] % m != 0 || c.event_shape[2] % m != 0)
      bad("flowpp: image height and width must be divisible by 2^levels = " + std::to_string(m));
    if (c.attention_heads > c.hidden || (c.attention_heads > 0 && c.hidden % c.attention_heads != 0))
      bad("flowpp: attention heads (" + std::to_string(c.attention_heads) + ") must divide hidden (" +
          std::to_string(c.hidden) + ")");
  } else if (c.model == "ffjord") {
    if (!vec) bad("ffjord: 2-D (vector) data only, e.g. --dataset toy (no convolutional velocity field for images)");
    c.couplings = or_default(c.couplings, 1);
    c.hidden = or_default(c.hidden, 64);
    c.blocks = or_default(c.blocks, 3);
    OdeSolverOptions solver;
    solver.method = c.ode_solver;
    solver.steps = c.ode_steps;
    solver.rtol = c.ode_rtol;
    solver.atol = c.ode_atol;
    if (const std::string why = ode_solver_refusal(solver); !why.empty()) bad("ffjord: " + why);
  } else {
    bad("unknown model '" + c.model + "' (nice, realnvp, glow, nsf, maf, resflow, ffjord, flowpp)");
  }
  if (c.attention_heads > 0 && c.model != "flowpp") bad(c.model + ": attention heads are for flowpp's conditioner");
  const bool glow_skeleton = c.model == "glow" || c.model == "flowpp" || (c.model == "nsf" && !vec);
  if (c.couplings == 0 && !glow_skeleton) bad(c.model + ": needs at least one coupling");
  if (c.transformer.empty()) c.transformer = default_transformer(c.model);
  const std::string refusal = transformer_refusal(c.model, c.transformer);
  if (!refusal.empty()) bad("transformer '" + c.transformer + "': " + refusal);
  // Glow on images has two switches for one choice: additive if either says so (a resolved
  // config whose `affine` is then turned off is additive, as --additive always was).
  if (c.model == "glow" && !vec && (c.transformer == "affine" || c.transformer == "additive")) {
    if (!c.affine) c.transformer = "additive";
    c.affine = c.transformer == "affine";
  }
  if (c.classes == 1 || c.classes > 100000) bad(c.model + ": a class-conditional model needs 2 to 100000 classes, got " + std::to_string(c.classes));
  if (c.classes && (vec || (c.model != "glow" && c.model != "nsf" && c.model != "realnvp")))
    bad(c.model + (vec ? " on 2-D data" : "") +
        ": class-conditional priors are for image models with a Gaussian multi-scale prior (glow, nsf, realnvp)");
  if (c.bins < 2 || c.bins > 1024 || c.mixtures < 1 || c.mixtures > 1024 || !(c.tail_bound > 0.0) ||
      !(c.tail_bound <= 1e6))
    bad(c.model + ": bins must be from 2 to 1024, mixtures from 1 to 1024 and tail_bound in (0, 1e6], got " +
        std::to_string(c.bins) + ", " + std::to_string(c.mixtures) + " and " + std::to_string(c.tail_bound));
  return c;
}

namespace {

// The family's model without class conditioning.
template <typename T>
std::shared_ptr<FlowModel<T>> make_unconditional_flow(const PresetConfig& c, Rng& rng) {
  const bool vec = is_vector_data(c.event_shape);
  if (c.model == "nice") return make_nice<T>(c, rng);
  if (c.model == "realnvp") return vec ? make_realnvp_vectors<T>(c, rng) : make_realnvp_images<T>(c, rng);
  if (c.model == "maf") return make_maf_flow<T>(c, rng);
  if (c.model == "resflow") return make_resflow_vectors<T>(c, rng);
  if (c.model == "ffjord") return make_ffjord_vectors<T>(c, rng);
  if (c.model == "flowpp") return make_flowpp_images<T>(c, rng);
  if (c.model == "nsf" && vec) return make_nsf_vectors<T>(c, rng);
  return vec ? make_glow_vectors<T>(c, rng) : make_glow_images<T>(c, rng);
}

}  // namespace

template <typename T>
std::shared_ptr<FlowModel<T>> make_flow(const PresetConfig& config, Rng& rng) {
  const PresetConfig c = resolve_preset(config);
  std::shared_ptr<FlowModel<T>> model = make_unconditional_flow<T>(c, rng);
  if (c.classes) model->make_class_conditional(c.classes);
  return model;
}

template std::shared_ptr<FlowModel<float>> make_flow<float>(const PresetConfig&, Rng&);
template std::shared_ptr<FlowModel<double>> make_flow<double>(const PresetConfig&, Rng&);

}  // namespace fz
