// flows/presets.hpp — the named model families, built from bijectors. At the sizes given in
// ../shared/BENCHMARKS.md they reproduce those architectures exactly:
//   nice     (images) Flatten -> 4 additive couplings, MLP D/2 -> hidden (x blocks) -> D/2,
//            even/odd halves alternating -> diagonal scaling; standard logistic base;
//            "unit" preprocessing (none: data in [0,1)).
//   realnvp  (images) logit(0.05) -> per scale: `couplings` checkerboard affine couplings ->
//            squeeze -> `couplings` channel-wise affine couplings -> factor out half the
//            channels (standard normal) ; then `couplings + 1` checkerboard couplings on top.
//            Conditioner: ResNet with `hidden` features and `blocks` residual blocks.
//   glow     (images) centering (x - 1/2) -> per level: squeeze -> K steps (ActNorm ->
//            invertible 1x1 conv -> coupling) -> split with a learned conditional prior
//            (not on the last level); standard normal top (or learned with learn_top).
//   nsf      (2-D) `couplings` (8) rational-quadratic spline couplings (`bins` K, `tail_bound` B)
//            on alternating coordinates, MLP 1 -> hidden (64) x blocks (2) -> 3K - 1, the last
//            layer starting at the identity spline; (images) exactly glow with the spline
//            transformer (the Glow multi-scale skeleton, spline couplings).
//   maf      `couplings` (5) MAF layers (flows/bijectors/masked_autoregressive.hpp: make_maf)
//            with reversals between them, MADE hidden (64) x blocks (2), transformer affine
//            (tanh log-scale) or spline; on images the flattened logit(0.05) of the pixels
//            (D = C*H*W: sampling costs D MADE passes per layer).
//   resflow  (2-D only) `couplings` (32) times ActNorm -> i-ResNet block x + g(x), g a spectrally
//            normalised LipSwish MLP D -> hidden (32) x blocks (2) -> D with Lipschitz 0.97
//            (flows/bijectors/residual_block.hpp); no transformer; training log-det by the
//            Russian-roulette estimator, eval exact; sampling by fixed-point inversion.
//   ffjord   (2-D only) `couplings` (1) continuous normalizing flow blocks
//            (flows/bijectors/ffjord.hpp), each dz/dt = f(z, t) with f an MLP of `blocks` (3)
//            hidden tanh layers of `hidden` (64) units and t as an extra input
//            (flows/conditioners/ode_dynamics.hpp), integrated over [0, 1] by `ode_solver`;
//            exact trace; standard normal base. No couplings: it takes no transformer.
//   flowpp   (images only) Flow++'s coupling (Ho et al. 2019) in the Glow skeleton: centering ->
//            per level: squeeze -> K steps (ActNorm -> invertible 1x1 conv (LU) -> logistic-
//            mixture CDF coupling with `mixtures` components on channel halves) -> split with
//            a learned conditional prior (not on the last level); standard normal top (or
//            learned with learn_top). Conditioner: Flow++'s gated residual network
//            (flows/conditioners/gated_resnet.hpp) of `hidden` (32) features and `blocks` (2)
//            gated blocks, weight-normalised with weight_norm, with multi-head self-attention of
//            `attention_heads` heads in every block when it is not 0.
//   and for 2-D data (--dataset toy) the vector form of each: couplings of MLPs on the two
//   coordinates (toy-realnvp: 8 affine couplings, MLP 1 -> 64 -> 64 -> 2, log-scale tanh(s)).
// Every coupling is a Coupling (flows/bijectors/coupling.hpp) of a partition, a conditioner and
// the transformer PresetConfig::transformer names (flows/transformers/registry.hpp).
#pragma once

#include <memory>
#include <string>

#include "flow_model.hpp"
#include "../tensor/random.hpp"

namespace fz {

struct PresetConfig {
  std::string model = "glow";        // nice | realnvp | glow | nsf | maf | resflow | ffjord | flowpp
  Shape event_shape = {1, 28, 28};   // one sample: (C, H, W) for images, (2) for toy data
  std::size_t levels = 2;            // glow L; realnvp number of scales that factor out
  std::size_t steps_per_level = 8;   // glow K
  std::size_t hidden = 0;            // conditioner width (0 = the model's default)
  std::size_t blocks = 0;            // realnvp residual blocks / MLP hidden layers (0 = default)
  std::size_t couplings = 0;         // nice/toy/nsf couplings, maf layers; realnvp per group (0 = default)
  bool affine = true;                // glow: affine (true) or additive coupling
  bool lu = true;                    // glow: LU-decomposed 1x1 convolution
  bool learn_top = false;            // glow: learned diagonal Gaussian top prior
  bool weight_norm = false;          // realnvp: weight-normalised conditioner convs
  // The couplings' transformer, one of transformer_choices() (flows/transformers/registry.hpp)
  // that the model takes (transformer_refusal above). "affine" is the family's affine map
  // (realnvp: scale * tanh log-scale, tanh on 2-D data; glow images: sigmoid(pre + 2) scale;
  // glow 2-D: tanh log-scale). Empty = default_transformer(model). resolve_preset fills it in;
  // for glow images it is additive when either it or `affine` = false says so, and `affine` is
  // set to match. (The 2-D Glow ignores `affine`, as it always has: use the transformer.)
  std::string transformer;
  std::size_t bins = 8;              // spline transformer: bins K
  double tail_bound = 3.0;           // spline transformer: identity outside [-tail_bound, tail_bound]
  std::size_t mixtures = 4;          // mixture transformer: logistic components K
  std::size_t attention_heads = 0;   // flowpp: self-attention heads per conditioner block (0 = none)
  // ffjord: the ODE solver of its blocks (flows/ode/ode_solver.hpp), --ode-solver etc.
  std::string ode_solver = "dopri5";  // rk4 | dopri5
  std::size_t ode_steps = 8;          // rk4: fixed steps over [0, 1]
  // dopri5 tolerances. 1e-4 rather than FFJORD's 1e-5: on two moons (90 s runs) it took as many
  // steps per second as 1e-3 with test NLLs within 3e-5 nats of a 1e-7 solve (1e-5: half the
  // steps per second, no better NLL per second; 1e-3: off by 1e-3 nats).
  double ode_rtol = 1e-4;             // dopri5: relative tolerance
  double ode_atol = 1e-4;             // dopri5: absolute tolerance
  // Class-conditional priors over this many classes (0 = unconditional; else >= 2): a learned
  // per-class mean and log-sd on every split prior and the top prior (flows/class_prior.hpp).
  // Image models with a Gaussian multi-scale prior only: glow, nsf and realnvp on images.
  std::size_t classes = 0;
};

// The model x transformer rules, written once (resolve_preset applies them; the CLI checks
// --transformer with them before any data is loaded):
//   nice            additive only (its couplings; a transformer is chosen for the others)
//   nsf             spline only
//   flowpp          mixture only
//   maf             affine | spline
//   realnvp, glow   any of transformer_choices() (flows/transformers/registry.hpp)
//   resflow         none (default_transformer is "", and any name is refused)
//   ffjord          none (no couplings; its transformer stays empty)
// The family's own transformer when none is asked for: nice additive, nsf spline, flowpp mixture, resflow and
// ffjord none (""), else affine.
std::string default_transformer(const std::string& model);
// "" when `model` can take `transformer`, else the reason in words, naming the model but not
// the transformer ("maf takes affine or spline"), for the caller to prefix with where the name
// came from ("--transformer mixture: ..." or "transformer 'mixture': ...").
std::string transformer_refusal(const std::string& model, const std::string& transformer);

// Fills zero fields with the model's defaults for its data (image or 2-D) and validates the
// combination (e.g. glow needs H and W divisible by 2^levels); throws std::invalid_argument.
PresetConfig resolve_preset(PresetConfig config);

template <typename T>
std::shared_ptr<FlowModel<T>> make_flow(const PresetConfig& config, Rng& rng);

extern template std::shared_ptr<FlowModel<float>> make_flow<float>(const PresetConfig&, Rng&);
extern template std::shared_ptr<FlowModel<double>> make_flow<double>(const PresetConfig&, Rng&);

}  // namespace fz
