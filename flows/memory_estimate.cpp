// flows/memory_estimate.cpp — the per-layer memory account of the presets (see the header).
// Each builder below walks the architecture exactly as flows/presets.cpp builds it; keep the
// two in step (the parameter-count test fails when they drift apart).
#include "flows/memory_estimate.hpp"

#include <algorithm>
#include <stdexcept>

namespace fz {

namespace {

// Values of one image tensor per sample, and of its padded "plane" layout (every image row
// followed by a zero, every image by a zero row: tensor/conv2d_same.hpp).
struct Geometry {
  double c, h, w;
  double size() const { return c * h * w; }
  double positions() const { return h * w; }
  double plane() const { return (h + 1) * (w + 1) + 1; }
};

double conv_params(double in, double out, double k, bool bias) { return out * in * k * k + (bias ? out : 0); }

// Elementwise glue held per coupling, in units of the coupling's tensor size: slices of the
// two halves, the conditioner output's split into shift and scale, the scale function, the
// product and sum, the merge, the log-det's summand (counted from the ops each coupling
// records; see the op totals of `flowzoo tape`).
constexpr double kGlowAffineGlue = 6.0;
constexpr double kGlowAdditiveGlue = 2.5;
constexpr double kRealNvpCheckerGlue = 9.0;
constexpr double kRealNvpHalvesGlue = 6.0;
constexpr double kVectorAffineGlue = 6.0;
constexpr double kVectorAdditiveGlue = 3.0;
// The spline and mixture transformers keep a few tensors of the transformed part's size
// (value, log-derivative, the slices and merge around them) on top of the conditioner output.
constexpr double kSplineGlue = 6.0;
constexpr double kMixtureGlue = 12.0;

// P: the conditioner outputs per transformed element (flows/transformers/transformer.hpp).
double params_per_element(const PresetConfig& c) {
  if (c.transformer == "additive") return 1;
  if (c.transformer == "spline") return 3.0 * double(c.bins) - 1;
  if (c.transformer == "mixture") return 3.0 * double(c.mixtures) + 2;
  return 2;  // affine, sigmoid-affine
}
// The glue of a coupling whose transformer is not affine or additive, else `affine_glue`
// (additive_glue for additive).
double transformer_glue(const PresetConfig& c, double affine_glue, double additive_glue) {
  if (c.transformer == "additive") return additive_glue;
  if (c.transformer == "spline") return kSplineGlue;
  if (c.transformer == "mixture") return kMixtureGlue;
  return affine_glue;
}

class Ledger {
 public:
  void add(std::string name, double params, double held, double working) {
    layers_.push_back({std::move(name), params, held, working});
  }
  std::vector<LayerMemory> take() { return std::move(layers_); }

 private:
  std::vector<LayerMemory> layers_;
};

std::string at(const Geometry& g) {
  return std::to_string(static_cast<std::size_t>(g.c)) + "x" + std::to_string(static_cast<std::size_t>(g.h)) + "x" +
         std::to_string(static_cast<std::size_t>(g.w));
}

// A chain of "same" convolutions fused into one op (conv2d_affine_chain) on an input of
// `in` channels at geometry g: per layer it keeps the convolution output and the layer's input
// planes (the first layer's input too: x_layout). widths = output channels of each layer.
double chain_held(double in, const std::vector<double>& widths, const Geometry& g) {
  double held = in * g.plane();
  for (std::size_t i = 0; i < widths.size(); ++i) {
    held += widths[i] * g.positions();                            // z_i
    if (i + 1 < widths.size()) held += widths[i] * g.plane();     // h_{i+1}: the next layer's input planes
  }
  return held + widths.back() * g.positions();  // the op's output
}
// Without gradients only the planes of the layer running and the next one's are alive.
double chain_working(double in, const std::vector<double>& widths, const Geometry& g) {
  double widest = in;
  for (double w : widths) widest = std::max(widest, w);
  return in * g.plane() + 2 * widest * g.plane() + widths.back() * g.positions();
}

// ---- Glow (images): squeeze -> K x (ActNorm, 1x1 conv, coupling) -> split, per level ----
void glow_images(const PresetConfig& c, Ledger& out) {
  Geometry g{double(c.event_shape[0]), double(c.event_shape[1]), double(c.event_shape[2])};
  const double d = g.size(), f = double(c.hidden);
  out.add("preprocessing (centering)", 0, 2 * d, 2 * d);
  for (std::size_t level = 0; level < c.levels; ++level) {
    const std::string lv = "level " + std::to_string(level + 1);
    g = {g.c * 4, g.h / 2, g.w / 2};
    out.add(lv + " squeeze", 0, g.size(), g.size());
    const double s = g.size(), ch = g.c;
    for (std::size_t k = 0; k < c.steps_per_level; ++k) {
      const std::string st = lv + " step " + std::to_string(k + 1);
      out.add(st + " actnorm", 2 * ch, s, 2 * s);
      out.add(st + (c.lu ? " 1x1 conv (LU)" : " 1x1 conv"), c.lu ? 2 * ch * ch + ch : ch * ch, s, 2 * s);
      const double net_out = params_per_element(c) * ch / 2;
      // GlowNet: conv3x3 (no bias) -> ActNorm -> ReLU -> conv1x1 -> ActNorm -> ReLU -> zero conv.
      const double params = conv_params(ch / 2, f, 3, false) + 2 * f + conv_params(f, f, 1, false) + 2 * f +
                            conv_params(f, net_out, 3, true) + net_out;
      const std::vector<double> widths = {f, f, net_out};
      const double glue = transformer_glue(c, kGlowAffineGlue, kGlowAdditiveGlue) * s;
      out.add(st + " coupling (hidden " + std::to_string(c.hidden) + " at " + at(g) + ")", params,
              chain_held(ch / 2, widths, g) + glue, chain_working(ch / 2, widths, g) + 2 * s);
    }
    if (level + 1 < c.levels) {
      // Learned conditional prior: conv3x3 (C/2 -> C) on the kept half, then a Gaussian.
      out.add(lv + " split (learned prior)", conv_params(ch / 2, ch, 3, true), 4 * s, 3 * s);
      g.c /= 2;
    }
  }
  out.add(c.learn_top ? "base (learned Gaussian)" : "base (standard normal)", c.learn_top ? 2 * g.size() : 0,
          2 * g.size(), 2 * g.size());
}

// ---- Flow++ (images): the Glow skeleton with gated-conditioner mixture couplings ----
// GatedResNetConditioner (flows/conditioners/gated_resnet.hpp), unfused ops: per block it
// holds concat_elu's negation, concatenation and ELU (5 F), conv1's output (F), the same again
// on that (5 F), conv2's output (2 F), the gate's halves, sigmoid and product (4 F), the
// residual sum (F) and the layer norm's centred values, square, product and affine (5 F): 23 F
// per position, plus conv1's padded input planes (2 F); an attention block adds its q, k, v (3 F, and 3 F per-head copies), the scores
// and softmax (2 heads HW each), the attended values (F), its gate (2 F + 4 F), sum and norm (6 F).
double gated_net_params(double in, double f, double blocks, double out, bool wn, double heads, double positions) {
  auto conv = [&](double i, double o, double k) { return conv_params(i, o, k, true) + (wn ? o : 0); };
  double per_block = conv(2 * f, f, 3) + conv(2 * f, 2 * f, 1) + 2 * f;
  if (heads > 0) per_block += conv(f, 3 * f, 1) + conv(f, 2 * f, 1) + f * positions + 2 * f;
  return conv(in, f, 3) + blocks * per_block + conv(f, out, 3);
}

void flowpp_images(const PresetConfig& c, Ledger& out) {
  Geometry g{double(c.event_shape[0]), double(c.event_shape[1]), double(c.event_shape[2])};
  const double d = g.size(), f = double(c.hidden), blocks = double(c.blocks), heads = double(c.attention_heads);
  out.add("preprocessing (centering)", 0, 2 * d, 2 * d);
  for (std::size_t level = 0; level < c.levels; ++level) {
    const std::string lv = "level " + std::to_string(level + 1);
    g = {g.c * 4, g.h / 2, g.w / 2};
    out.add(lv + " squeeze", 0, g.size(), g.size());
    const double s = g.size(), ch = g.c, p = g.positions();
    for (std::size_t k = 0; k < c.steps_per_level; ++k) {
      const std::string st = lv + " step " + std::to_string(k + 1);
      out.add(st + " actnorm", 2 * ch, s, 2 * s);
      out.add(st + (c.lu ? " 1x1 conv (LU)" : " 1x1 conv"), c.lu ? 2 * ch * ch + ch : ch * ch, s, 2 * s);
      const double net_out = params_per_element(c) * ch / 2;
      const double params = gated_net_params(ch / 2, f, blocks, net_out, c.weight_norm, heads, p);
      // Each 3x3 convolution also keeps its input as padded planes (proj_in's, conv1's 2F, proj_out's F).
      double per_block = 23 * f * p + 2 * f * g.plane();
      if (heads > 0) per_block += 22 * f * p + 2 * heads * p * p;
      const double held = ch / 2 * (p + g.plane()) + f * p + blocks * per_block + f * g.plane() + net_out * p +
                          kMixtureGlue * s;
      const double working = 2 * f * p * 4 + net_out * p + 2 * s + (heads > 0 ? 2 * heads * p * p : 0);
      out.add(st + " coupling (gated " + std::to_string(c.hidden) + " x " + std::to_string(c.blocks) + " at " + at(g) +
                  ")",
              params, held, working);
    }
    if (level + 1 < c.levels) {
      out.add(lv + " split (learned prior)", conv_params(ch / 2, ch, 3, true), 4 * s, 3 * s);
      g.c /= 2;
    }
  }
  out.add(c.learn_top ? "base (learned Gaussian)" : "base (standard normal)", c.learn_top ? 2 * g.size() : 0,
          2 * g.size(), 2 * g.size());
}

// ---- RealNVP (images): per scale checkerboard x n -> squeeze -> channel-wise x n -> split ----
// Coupling conditioner (flows/conditioners/resnet.hpp): conv_in, `blocks` residual blocks of
// two convolutions fused into one chain (plus the residual sum), conv_out after a ReLU.
double resnet_params(double in, double f, double blocks, double out, bool wn) {
  auto conv = [&](double i, double o) { return conv_params(i, o, 3, true) + (wn ? o : 0); };
  return conv(in, f) + blocks * 2 * conv(f, f) + conv(f, out);
}

void realnvp_coupling(const PresetConfig& c, bool checkerboard, const Geometry& g, const std::string& name,
                      Ledger& out) {
  const double f = double(c.hidden), blocks = double(c.blocks), s = g.size();
  const double in = checkerboard ? g.c + 1 : g.c / 2;
  const double transformed = checkerboard ? g.c : g.c / 2;
  const bool affine = c.transformer == "affine";  // affine: s and t, and a learned "scale"
  const double net_out = params_per_element(c) * transformed;
  const double params = resnet_params(in, f, blocks, net_out, c.weight_norm) + (affine ? transformed : 0);
  double held = in * g.positions() + f * g.positions();  // the conditioner's input, conv_in's output
  held += blocks * (chain_held(f, {f, f}, g) + f * g.positions());  // each block's chain and residual sum
  held += f * g.plane() + net_out * g.positions();                  // conv_out's input planes and output
  const double family_glue = checkerboard ? kRealNvpCheckerGlue : kRealNvpHalvesGlue;
  held += transformer_glue(c, family_glue, family_glue) * s;
  const double working = chain_working(f, {f, f}, g) + 2 * f * g.positions() + 3 * s;
  out.add(name + " (hidden " + std::to_string(c.hidden) + " at " + at(g) + ")", params, held, working);
}

void realnvp_images(const PresetConfig& c, Ledger& out) {
  Geometry g{double(c.event_shape[0]), double(c.event_shape[1]), double(c.event_shape[2])};
  const double d = g.size();
  out.add("preprocessing (logit)", 0, 4 * d, 3 * d);
  for (std::size_t scale = 0; scale < c.levels; ++scale) {
    const std::string sc = "scale " + std::to_string(scale + 1);
    for (std::size_t i = 0; i < c.couplings; ++i)
      realnvp_coupling(c, true, g, sc + " checkerboard coupling " + std::to_string(i + 1), out);
    g = {g.c * 4, g.h / 2, g.w / 2};
    out.add(sc + " squeeze", 0, g.size(), g.size());
    for (std::size_t i = 0; i < c.couplings; ++i)
      realnvp_coupling(c, false, g, sc + " channel coupling " + std::to_string(i + 1), out);
    out.add(sc + " split", 0, 2 * g.size(), g.size());
    g.c /= 2;
  }
  for (std::size_t i = 0; i <= c.couplings; ++i)
    realnvp_coupling(c, true, g, "top checkerboard coupling " + std::to_string(i + 1), out);
  out.add("base (standard normal)", 0, 2 * g.size(), 2 * g.size());
}

// ---- MLP couplings on vectors (NICE on flattened images, the 2-D toy models) ----
// MLP(in -> hidden x blocks -> out): each layer a fused linear (+ ReLU) whose output is held.
double mlp_params(double in, double hidden, double blocks, double out) {
  return in * hidden + hidden + (blocks - 1) * (hidden * hidden + hidden) + hidden * out + out;
}

void mlp_coupling(const PresetConfig& c, const std::string& name, double d, double hidden, double blocks, Ledger& out) {
  const double net_out = params_per_element(c) * d / 2;
  const double held = blocks * hidden + net_out + transformer_glue(c, kVectorAffineGlue, kVectorAdditiveGlue) * d;
  out.add(name + " (MLP " + std::to_string(static_cast<std::size_t>(hidden)) + " x " +
              std::to_string(static_cast<std::size_t>(blocks)) + ")",
          mlp_params(d / 2, hidden, blocks, net_out), held, 2 * hidden + 2 * d);
}

void nice(const PresetConfig& c, Ledger& out) {
  double d = 1;
  for (std::size_t e : c.event_shape) d *= double(e);
  out.add("preprocessing (flatten)", 0, d, d);
  for (std::size_t i = 0; i < c.couplings; ++i)
    mlp_coupling(c, "additive coupling " + std::to_string(i + 1), d, double(c.hidden), double(c.blocks), out);
  out.add("diagonal scaling", d, 2 * d, 2 * d);
  out.add("base (standard logistic)", 0, 4 * d, 3 * d);
}

void realnvp_vectors(const PresetConfig& c, Ledger& out) {
  const double d = double(c.event_shape[0]);
  for (std::size_t i = 0; i < c.couplings; ++i)
    mlp_coupling(c, c.transformer + " coupling " + std::to_string(i + 1), d, double(c.hidden), double(c.blocks), out);
  out.add("base (standard normal)", 0, 2 * d, 2 * d);
}

void glow_vectors(const PresetConfig& c, Ledger& out) {
  const double d = double(c.event_shape[0]);
  for (std::size_t k = 0; k < c.steps_per_level; ++k) {
    const std::string st = "step " + std::to_string(k + 1);
    out.add(st + " actnorm", 2 * d, d, 2 * d);
    out.add(st + (c.lu ? " linear (LU)" : " linear"), c.lu ? 2 * d * d + d : d * d, d, 2 * d);
    mlp_coupling(c, st + " " + c.transformer + " coupling", d, double(c.hidden), double(c.blocks), out);
  }
  out.add("base (standard normal)", 0, 2 * d, 2 * d);
}

// ---- MAF: MAF layers (MADE D -> hidden x blocks -> P * D, masked) with reversals ----
// Each layer holds its hidden activations and outputs like an MLP, plus the transformer's glue;
// the masked weights (weight * mask) are per layer, not per sample.
void maf(const PresetConfig& c, Ledger& out) {
  double d = 1;
  for (std::size_t e : c.event_shape) d *= double(e);
  if (c.event_shape.size() != 1) out.add("preprocessing (logit, flatten)", 0, 4 * d, 3 * d);
  const double hidden = double(c.hidden), blocks = double(c.blocks), net_out = params_per_element(c) * d;
  for (std::size_t l = 0; l < c.couplings; ++l) {
    if (l > 0) out.add("reverse " + std::to_string(l), 0, d, d);
    const double held = blocks * hidden + net_out + transformer_glue(c, kVectorAffineGlue, kVectorAdditiveGlue) * d;
    out.add("MAF layer " + std::to_string(l + 1) + " " + c.transformer + " (MADE " + std::to_string(c.hidden) + " x " +
                std::to_string(c.blocks) + ")",
            mlp_params(d, hidden, blocks, net_out), held, 2 * hidden + net_out + 2 * d);
  }
  out.add("base (standard normal)", 0, 2 * d, 2 * d);
}

// ---- resflow: per block ActNorm then a residual block x + g(x), g a Lipschitz MLP ----
// The block keeps g's pass (per hidden layer the pre-activation, its sigmoid, the LipSwish
// value and slope and their products, about 8 hidden-width tensors) plus the one
// differentiable Jacobian-vector product of the log-det estimator (2 per hidden layer) and a
// few D-sized tensors (output, probe, surrogate).
void resflow(const PresetConfig& c, Ledger& out) {
  const double d = double(c.event_shape[0]), hidden = double(c.hidden), blocks = double(c.blocks);
  for (std::size_t k = 0; k < c.couplings; ++k) {
    const std::string st = "block " + std::to_string(k + 1);
    out.add(st + " actnorm", 2 * d, d, 2 * d);
    out.add(st + " residual (Lipschitz MLP " + std::to_string(c.hidden) + " x " + std::to_string(c.blocks) + ")",
            mlp_params(d, hidden, blocks, d), 10 * blocks * hidden + 8 * d, 4 * hidden + 4 * d);
  }
  out.add("base (standard normal)", 0, 2 * d, 2 * d);
}

// ---- FFJORD: CNF blocks whose velocity MLP is evaluated NFE times per solve, all on the tape ----
// Per evaluation and sample, each layer keeps its pre-activation (the product and the time
// term's sum), its activation and slope, and its M = D tangent rows (the product, the scaled
// rows); the trace keeps its product. The Runge-Kutta combinations keep two state-sized values
// (D + 1: z and the log-det) per nonzero stage weight. The evaluation count is exact for rk4 (4 per
// step) and assumed for dopri5: kDopri5AssumedSteps accepted steps of 6 evaluations (the real
// count depends on the learned field and grows as it sharpens).
constexpr double kDopri5AssumedSteps = 8;
void ffjord(const PresetConfig& c, Ledger& out) {
  const double d = double(c.event_shape[0]), hidden = double(c.hidden), m = d;
  const bool rk4 = c.ode_solver == "rk4";
  const double steps = rk4 ? double(c.ode_steps) : kDopri5AssumedSteps;
  const double evaluations = steps * (rk4 ? 4 : 6), stage_weights = steps * (rk4 ? 7 : 20);
  double params = 0, per_eval = 0, widest = 0;
  for (std::size_t l = 0; l <= c.blocks; ++l) {
    const bool last = l == c.blocks;
    const double in = l == 0 ? d : hidden, width = last ? d : hidden;
    params += (in + 1) * width + width;
    per_eval += last ? width * (2 + m) : width * (5 + 3 * m);
    widest = std::max(widest, width * (2 + 2 * m));
  }
  per_eval += m * d + 1;
  // One entry per solver step (the backward pass walks them one at a time), the parameters on the first.
  const std::size_t n = std::size_t(steps);
  for (std::size_t b = 0; b < c.couplings; ++b)
    for (std::size_t s = 0; s < n; ++s)
      out.add("CNF block " + std::to_string(b + 1) + " " + c.ode_solver + " step " + std::to_string(s + 1) + " (" +
                  std::to_string(std::size_t(evaluations / steps)) + " evaluations of MLP " + std::to_string(c.hidden) +
                  " x " + std::to_string(c.blocks) + ")",
              s == 0 ? params : 0, (evaluations * per_eval + 2 * stage_weights * (d + 1)) / steps,
              widest + 8 * (d + 1));
  out.add("base (standard normal)", 0, 2 * d, 2 * d);
}

}  // namespace

double MemoryEstimate::parameters() const {
  double n = 0;
  for (const LayerMemory& l : layers) n += l.parameters;
  return n;
}

double MemoryEstimate::parameter_bytes() const { return parameters() * double(bytes_per_value); }

double MemoryEstimate::activation_bytes() const {
  double held = 0;
  for (const LayerMemory& l : layers) held += l.held_values;
  return held * double(batch) * double(bytes_per_value);
}

double MemoryEstimate::backward_extra_bytes() const {
  // The reverse pass frees each node's values only when the tape is cleared, and meanwhile
  // holds the gradients flowing back: at most about the largest layer's activations, twice
  // (its output gradient and the input gradient it produces, plus the kernels' scratch).
  return 2 * largest_layer().held_values * double(batch) * double(bytes_per_value);
}

double MemoryEstimate::inference_bytes(std::size_t batch_size) const {
  double widest = 0, data = 0;
  for (const LayerMemory& l : layers) widest = std::max(widest, l.working_values);
  // The values passed between layers: the data, the current tensor and the latents kept by
  // encode (together about three data-sized tensors, the first layer's working set covers it).
  if (!layers.empty()) data = layers.front().working_values;
  return (widest + 2 * data) * double(batch_size) * double(bytes_per_value);
}

const LayerMemory& MemoryEstimate::largest_layer() const {
  if (layers.empty()) throw std::logic_error("MemoryEstimate: no layers");
  return *std::max_element(layers.begin(), layers.end(),
                           [](const LayerMemory& a, const LayerMemory& b) { return a.held_values < b.held_values; });
}

MemoryEstimate estimate_memory(const PresetConfig& config, std::size_t batch) {
  // Glow on images is additive when `affine` is off, whatever the transformer says (as resolve_preset).
  PresetConfig c = config;
  if (c.model == "glow" && c.event_shape.size() == 3 && !c.affine && c.transformer == "affine") c.transformer = "additive";
  if (c.event_shape.empty() || c.hidden == 0 || c.blocks == 0)
    throw std::invalid_argument("estimate_memory: the configuration is not resolved (resolve_preset)");
  const bool vec = c.event_shape.size() == 1;
  const bool glow_skeleton = c.model == "glow" || c.model == "flowpp" || (c.model == "nsf" && !vec);
  if (c.couplings == 0 && !glow_skeleton)
    throw std::invalid_argument("estimate_memory: the configuration is not resolved (resolve_preset)");
  Ledger ledger;
  if (c.model == "nice") nice(c, ledger);
  else if (c.model == "realnvp") vec ? realnvp_vectors(c, ledger) : realnvp_images(c, ledger);
  else if (c.model == "glow") vec ? glow_vectors(c, ledger) : glow_images(c, ledger);
  else if (c.model == "nsf") vec ? realnvp_vectors(c, ledger) : glow_images(c, ledger);  // same skeletons
  else if (c.model == "maf") maf(c, ledger);
  else if (c.model == "resflow") resflow(c, ledger);
  else if (c.model == "ffjord") ffjord(c, ledger);
  else if (c.model == "flowpp") flowpp_images(c, ledger);
  else throw std::invalid_argument("estimate_memory: unknown model '" + c.model + "'");
  // Class-conditional priors (flows/class_prior.hpp): a mean and log-sd per class over every
  // latent, which together hold the D data dimensions; the gathered rows are held per sample.
  if (c.classes) {
    const double d = double(shape_numel(c.event_shape));
    ledger.add("class priors (" + std::to_string(c.classes) + " classes)", 2 * double(c.classes) * d, 2 * d, 2 * d);
  }
  MemoryEstimate e;
  e.layers = ledger.take();
  e.batch = batch;
  return e;
}

}  // namespace fz
