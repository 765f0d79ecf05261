// tests/flows/bijector_registry.cpp — every bijector in flowzoo, at a small size, for the
// conformance checks in test_conformance.cpp. Keep one section per family.
#include "tests/flows/bijector_registry.hpp"

#include "flows/bijectors/preprocessing.hpp"
#include "flows/bijectors/coupling_factories.hpp"
#include "flows/bijectors/batch_norm.hpp"
#include "flows/bijectors/diagonal_scaling.hpp"
#include "flows/bijectors/permutation.hpp"
#include "flows/bijectors/squeeze.hpp"
#include "flows/conditioners/mlp.hpp"
#include "flows/conditioners/resnet.hpp"
#include "flows/bijectors/actnorm.hpp"
#include "flows/transformers/additive.hpp"
#include "flows/transformers/affine.hpp"
#include "flows/transformers/sigmoid_affine.hpp"
#include "flows/bijectors/invertible_conv1x1.hpp"
#include "examples/leaky_relu_bijector.hpp"  // a bijector written outside flows/ (examples/)
#include "flows/bijectors/masked_autoregressive.hpp"
#include "flows/bijectors/residual_block.hpp"
#include "flows/bijectors/ffjord.hpp"
#include "tests/flows/affine_transformer_fixture.hpp"
#include "flows/bijectors/inverted.hpp"
#include "flows/bijectors/planar.hpp"
#include "flows/bijectors/radial.hpp"
#include "examples/tanh_residual_transformer.hpp"  // a transformer written outside flows/

#include <cmath>

#include "flows/distributions/distribution.hpp"
#include "flows/split.hpp"

namespace fz::testing {

std::vector<BijectorCase> all_bijector_cases() {
  std::vector<BijectorCase> cases;
  using B = std::shared_ptr<Bijector<double>>;

  // ---- preprocessing ------------------------------------------------------------------------
  cases.push_back({"AffineScalar(centered)",
                   [](Rng&) -> B { return std::make_shared<AffineScalar<double>>(1.0, -0.5); },
                   {3, 1, 2, 2}, 0.0, 1.0, {0.0, 1.0}});
  cases.push_back({"AffineScalar(2.5, 1)",
                   [](Rng&) -> B { return std::make_shared<AffineScalar<double>>(2.5, 1.0); },
                   {3, 5}});
  cases.push_back({"Logit(0.05)",
                   [](Rng&) -> B { return std::make_shared<Logit<double>>(0.05); },
                   {3, 1, 2, 2}, 0.0, 1.0, {0.0, 1.0}});
  cases.push_back({"Flatten(2, 2, 2)",
                   [](Rng&) -> B { return std::make_shared<Flatten<double>>(Shape{2, 2, 2}); },
                   {2, 2, 2, 2}});

  // ---- NICE / RealNVP (section for those bijectors) -----------------------------------------
  {
    const Partition cb0{PartitionKind::Checkerboard, false}, cb1{PartitionKind::Checkerboard, true};
    const Partition ch0{PartitionKind::ChannelHalves, false}, ch1{PartitionKind::ChannelHalves, true};
    cases.push_back({"AdditiveCoupling(even/odd MLP)",
                     [](Rng& r) -> B { return make_mlp_additive_coupling<double>(6, false, 8, 2, r); },
                     {3, 6}});
    cases.push_back({"AdditiveCoupling(even/odd MLP, parity 1)",
                     [](Rng& r) -> B { return make_mlp_additive_coupling<double>(6, true, 8, 2, r); },
                     {3, 6}});
    cases.push_back({"AdditiveCoupling(checkerboard ResNet)",
                     [cb1](Rng& r) -> B { return make_resnet_additive_coupling<double>(2, cb1, 4, 1, r); },
                     {2, 2, 4, 4}});
    cases.push_back({"AdditiveCoupling(channel halves ResNet)",
                     [ch0](Rng& r) -> B { return make_resnet_additive_coupling<double>(4, ch0, 4, 1, r); },
                     {2, 4, 4, 4}});
    cases.push_back({"DiagonalScaling(vector)",
                     [](Rng&) -> B { return std::make_shared<DiagonalScaling<double>>(Shape{6}); },
                     {3, 6}});
    cases.push_back({"DiagonalScaling(image)",
                     [](Rng&) -> B { return std::make_shared<DiagonalScaling<double>>(Shape{2, 3, 3}); },
                     {2, 2, 3, 3}});
    cases.push_back({"AffineCoupling(toy 2-D, tanh)",
                     [](Rng& r) -> B { return make_mlp_affine_coupling<double>(2, false, 16, 2, r); },
                     {3, 2}});
    cases.push_back({"AffineCoupling(even/odd MLP, learned scale, parity 1)",
                     [](Rng& r) -> B { return make_mlp_affine_coupling<double>(6, true, 8, 2, r, true); },
                     {3, 6}});
    cases.push_back({"AffineCoupling(checkerboard ResNet)",
                     [cb0](Rng& r) -> B { return make_resnet_affine_coupling<double>(2, cb0, 4, 1, r); },
                     {2, 2, 4, 4}});
    cases.push_back({"AffineCoupling(checkerboard ResNet, weight norm, parity 1)",
                     [cb1](Rng& r) -> B { return make_resnet_affine_coupling<double>(1, cb1, 4, 2, r, true); },
                     {2, 1, 4, 4}});
    cases.push_back({"AffineCoupling(channel halves ResNet)",
                     [ch0](Rng& r) -> B { return make_resnet_affine_coupling<double>(4, ch0, 4, 1, r); },
                     {2, 4, 4, 4}});
    cases.push_back({"AffineCoupling(channel halves ResNet, weight norm, parity 1)",
                     [ch1](Rng& r) -> B { return make_resnet_affine_coupling<double>(4, ch1, 4, 1, r, true); },
                     {2, 4, 4, 4}});
    cases.push_back({"BatchNormBijector(image)",
                     [](Rng&) -> B { return std::make_shared<BatchNormBijector<double>>(2, 0.5); },
                     {3, 2, 3, 3}});
    cases.back().check_training_mode = true;
    cases.push_back({"BatchNormBijector(vector)",
                     [](Rng&) -> B { return std::make_shared<BatchNormBijector<double>>(6, 0.5); },
                     {3, 6}});
    cases.back().check_training_mode = true;
    cases.push_back({"Squeeze", [](Rng&) -> B { return std::make_shared<Squeeze<double>>(); },
                     {2, 2, 4, 4}});
    cases.push_back({"Reverse(vector)", [](Rng&) -> B { return std::make_shared<Reverse<double>>(); },
                     {3, 6}});
    cases.push_back({"Reverse(image channels)",
                     [](Rng&) -> B { return std::make_shared<Reverse<double>>(); }, {2, 4, 2, 2}});
    cases.push_back({"Permutation(random, vector)",
                     [](Rng& r) -> B { return std::make_shared<Permutation<double>>(6, r); },
                     {3, 6}});
    cases.push_back({"Permutation(random, image channels)",
                     [](Rng& r) -> B { return std::make_shared<Permutation<double>>(4, r); },
                     {2, 4, 2, 2}});
  }

  // ---- Glow (section for those bijectors) ---------------------------------------------------
  cases.push_back({"ActNorm(4) images",
                   [](Rng&) -> B { return std::make_shared<ActNorm<double>>(4); },
                   {2, 4, 3, 3}});
  cases.push_back({"ActNorm(5) vectors",
                   [](Rng&) -> B { return std::make_shared<ActNorm<double>>(5); },
                   {3, 5}});
  cases.push_back({"InvConv1x1(4)",
                   [](Rng& rng) -> B { return std::make_shared<InvConv1x1<double>>(4, rng); },
                   {2, 4, 3, 3}});
  cases.push_back({"InvConv1x1(3) vectors",
                   [](Rng& rng) -> B { return std::make_shared<InvConv1x1<double>>(3, rng); },
                   {2, 3}});
  cases.push_back({"InvConv1x1LU(4)",
                   [](Rng& rng) -> B { return std::make_shared<InvConv1x1LU<double>>(4, rng); },
                   {2, 4, 3, 3}});
  cases.push_back({"InvConv1x1LU(6) vectors",
                   [](Rng& rng) -> B { return std::make_shared<InvConv1x1LU<double>>(6, rng); },
                   {2, 6}});
  cases.push_back({"make_glow_coupling(4, affine)",
                   [](Rng& rng) -> B { return make_glow_coupling<double>(4, 8, rng, true); },
                   {2, 4, 3, 3}});
  cases.push_back({"make_glow_coupling(4, additive)",
                   [](Rng& rng) -> B { return make_glow_coupling<double>(4, 8, rng, false); },
                   {2, 4, 3, 3}});
  cases.push_back({"glow_step(4, LU, affine)",
                   [](Rng& rng) -> B { return glow_step<double>(4, 8, rng, true, true); },
                   {2, 4, 3, 3}});
  cases.push_back({"glow_step(4, plain, additive)",
                   [](Rng& rng) -> B { return glow_step<double>(4, 8, rng, false, false); },
                   {2, 4, 4, 4}});

  // ---- autoregressive (MAF, IAF: MADE conditioner + an elementwise transformer) -------------
  {
    using Tau = std::shared_ptr<Transformer<double>>;
    auto affine = [] { return Tau(std::make_shared<AffineTransformer<double>>(5, false)); };
    auto affine_learned = [] { return Tau(std::make_shared<AffineTransformer<double>>(5, true)); };
    // Interleaved parameter layout (tests/flows/affine_transformer_fixture.hpp).
    auto interleaved = [] { return Tau(std::make_shared<InterleavedAffineFixture<double>>()); };
    auto ar_case = [&cases](const std::string& name, bool iaf, bool random_order, bool residual,
                            std::function<Tau()> transformer) {
      cases.push_back({name, [=](Rng& r) -> B {
                         Tau tau = transformer();
                         MadeConfig config;
                         config.features = 5;
                         config.hidden = 8;
                         config.n_hidden = residual ? 1 : 2;
                         config.residual = residual;
                         config.zero_init_last = true;  // param_noise moves it off the identity
                         auto made = made_for_transformer<double>(
                             config, random_order ? r.permutation(5) : natural_order(5), tau, r);
                         if (iaf) return std::make_shared<InverseAutoregressiveFlow<double>>(made, tau);
                         return std::make_shared<MaskedAutoregressiveFlow<double>>(made, tau);
                       }, {3, 5}});
      cases.back().autoregressive_order = [](Bijector<double>& b) {
        return dynamic_cast<AutoregressiveLayer<double>&>(b).order();
      };
    };
    ar_case("MAF(5, natural order, affine)", false, false, false, affine);
    ar_case("MAF(5, random order, residual, affine learned scale)", false, true, true, affine_learned);
    ar_case("MAF(5, random order, interleaved affine fixture)", false, true, false, interleaved);
    ar_case("IAF(5, natural order, residual, affine)", true, false, true, affine);
    ar_case("IAF(5, random order, affine learned scale)", true, true, false, affine_learned);
    ar_case("IAF(5, random order, residual, interleaved affine fixture)", true, true, true, interleaved);
    ar_case("MAF(5, random order, additive)", false, true, false,
            [] { return Tau(std::make_shared<AdditiveTransformer<double>>()); });
    // A transformer from examples/ whose inverse is a bisection: IAF's density direction runs it.
    ar_case("IAF(5, random order, TanhResidual (examples/))", true, true, false,
            [] { return Tau(std::make_shared<TanhResidualTransformer<double>>()); });
  }

  // ---- planar and radial flows (Rezende & Mohamed 2015); Inverted: their generative map ------
  // as forward, so its log-det and gradients get the forward direction's checks too.
  for (bool inverted : {false, true}) {
    const std::string suffix = inverted ? ", inverted" : "";
    auto wrap = [inverted](B b) -> B { return inverted ? std::make_shared<Inverted<double>>(b) : b; };
    cases.push_back({"PlanarFlow(3)" + suffix, [wrap](Rng& r) -> B { return wrap(make_planar_layer<double>(3, r)); },
                     {4, 3}});
    cases.push_back({"PlanarFlow(2, w^T u_hat near -1)" + suffix, [wrap](Rng&) -> B {
                       // w^T u = -6: w^T u_hat = -1 + softplus(-6) = -0.9975, a nearly singular layer.
                       return wrap(std::make_shared<PlanarFlow<double>>(Tensor64({2}, {0.6, -0.8}),
                                                                        Tensor64({2}, {-3.6, 4.8}), Tensor64({1}, {0.3})));
                     }, {4, 2}});
    cases.back().param_noise = 0.0;
    cases.push_back({"RadialFlow(3)" + suffix, [wrap](Rng& r) -> B { return wrap(make_radial_layer<double>(3, r)); },
                     {4, 3}});
    cases.push_back({"RadialFlow(2, beta near -alpha)" + suffix, [wrap](Rng&) -> B {
                       // beta_raw = -5: beta = -alpha + 0.0067, a strong contraction toward z0.
                       return wrap(std::make_shared<RadialFlow<double>>(Tensor64({2}, {0.2, -0.3}), Tensor64({1}, {0.5}),
                                                                        Tensor64({1}, {-5.0})));
                     }, {4, 2}});
    cases.back().param_noise = 0.0;
  }

  // ---- continuous normalizing flow (FFJORD): dopri5 tight enough for the 1e-9 round trips ------
  for (std::size_t d : {2, 3}) {
    cases.push_back({"Ffjord(" + std::to_string(d) + "-D, MLP 8 x 2 tanh, dopri5 1e-11, exact trace)",
                     [d](Rng& r) -> B {
                       FfjordOptions o;
                       o.solver.rtol = o.solver.atol = 1e-11;
                       return std::make_shared<Ffjord<double>>(std::make_shared<OdeDynamics<double>>(d, 8, 2, r), o);
                     },
                     {3, d}});
  }

  // ---- examples/ (a contributor's bijector, see README "Writing a bijector") ----------------
  cases.push_back({"LeakyReLUBijector(4) vectors (examples/)",
                   [](Rng&) -> B { return std::make_shared<LeakyReLUBijector<double>>(4, 0.5); },
                   {3, 4}});

  // ---- Coupling from parts: every transformer on every partition ------------------------------
  // (the factory cases above cover the families' own combinations; these fill in the rest). A
  // vector partition gets an MLP conditioner, an image one a small ResNet, each sized for the
  // transformer's P parameters per transformed element.
  {
    using Tau = std::function<std::shared_ptr<Transformer<double>>(std::size_t k)>;
    const std::vector<std::pair<std::string, Tau>> transformers = {
        {"Additive", [](std::size_t) { return std::make_shared<AdditiveTransformer<double>>(); }},
        {"Affine(tanh)", [](std::size_t k) { return std::make_shared<AffineTransformer<double>>(k, false); }},
        {"Affine(learned scale)", [](std::size_t k) { return std::make_shared<AffineTransformer<double>>(k, true); }},
        {"SigmoidAffine", [](std::size_t) { return std::make_shared<SigmoidAffineTransformer<double>>(); }},
        {"TanhResidual (examples/)", [](std::size_t) { return std::make_shared<TanhResidualTransformer<double>>(); }},
    };
    const std::vector<std::pair<Partition, Shape>> partitions = {
        {{PartitionKind::EvenOdd, true}, {3, 6}},
        {{PartitionKind::ChannelHalves, false}, {2, 4, 3, 3}},
        {{PartitionKind::Checkerboard, true}, {2, 2, 4, 4}},
    };
    for (const auto& [tau_name, tau] : transformers)
      for (const auto& [partition, shape] : partitions)
        cases.push_back({"Coupling(" + partition.name() + ", " + tau_name + ")",
                         [tau = tau, partition = partition, shape = shape](Rng& r) -> B {
                           const std::size_t c = shape[1], k = partition.transformed_channels(c);
                           std::shared_ptr<Transformer<double>> t = tau(k);
                           const std::size_t out = t->parameters_per_element() * k;
                           const std::size_t in = partition.conditioner_in_channels(c);
                           std::shared_ptr<Layer<double>> net;
                           if (shape.size() == 2) net = std::make_shared<MLP<double>>(in, 8, 2, out, r);
                           else net = std::make_shared<ResNetConditioner<double>>(in, 4, 1, out, r);
                           return std::make_shared<Coupling<double>>(c, partition, net, t);
                         },
                         shape});
  }

  // ---- residual flows: in eval mode the exact log-det (D <= 8); the round trip goes through
  // the fixed-point inverse. No parameter noise: it would leave the power iteration's u behind.
  {
    ResidualBlockOptions o;
    o.hidden = 8;
    cases.push_back({"ResidualBlock(3-D, Lipschitz 0.9)",
                     [o](Rng& r) -> B {
                       ResidualBlockOptions p = o;
                       p.coefficient = 0.9;
                       return std::make_shared<ResidualBlock<double>>(3, p, r);
                     },
                     {4, 3}, -2.0, 2.0, {-20.0, 0.0, 20.0}, 0.0});
  }

  return cases;
}

namespace {

constexpr double kHalfLog2Pi = 0.91893853320467274178;  // log(2 pi) / 2

// A module's parameter by its registered name.
Tensor64 parameter(Module<double>& m, const std::string& name) {
  for (auto& [n, p] : m.named_parameters())
    if (n == name) return p.value();
  throw std::invalid_argument("no parameter " + name);
}

// sum over everything but the batch axis of log N(z; mean, exp(log_sd)^2); mean and log_sd
// are called per flat element index within a sample.
template <typename Mean, typename LogSd>
Tensor64 gaussian_log_prob(const Tensor64& z, std::size_t batch, Mean mean, LogSd log_sd) {
  const std::size_t per = z.numel() / batch;
  Tensor64 out({batch});
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t i = 0; i < per; ++i) {
      const double m = mean(b, i), s = log_sd(b, i), d = (z[b * per + i] - m) * std::exp(-s);
      out[b] += -0.5 * d * d - s - kHalfLog2Pi;
    }
  return out;
}

// Split's reference: kept = channels [0, C/2), z = [C/2, C); the learned prior's mean and
// log-sd are the even and odd output channels of a 3x3, padding 1 convolution of kept (a
// direct loop here).
Tensor64 split_reference_log_prob(Module<double>& m, const Tensor64& x, bool learned) {
  const std::size_t B = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t half = C / 2, plane = H * W;
  Tensor64 z({B, half, H, W});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t i = 0; i < half * plane; ++i) z[b * half * plane + i] = x[(b * C + half) * plane + i];
  if (!learned)
    return gaussian_log_prob(z, B, [](std::size_t, std::size_t) { return 0.0; },
                             [](std::size_t, std::size_t) { return 0.0; });
  const Tensor64 w = parameter(m, "weight"), bias = parameter(m, "bias");  // (C, C/2, 3, 3), (C)
  auto conv_out = [&](std::size_t b, std::size_t o, std::size_t p) {
    const long r = long(p / W), c = long(p % W);
    double s = bias[o];
    for (std::size_t ci = 0; ci < half; ++ci)
      for (long di = -1; di <= 1; ++di)
        for (long dj = -1; dj <= 1; ++dj) {
          const long rr = r + di, cc = c + dj;
          if (rr < 0 || cc < 0 || rr >= long(H) || cc >= long(W)) continue;
          s += w[((o * half + ci) * 3 + std::size_t(di + 1)) * 3 + std::size_t(dj + 1)] *
               x[(b * C + ci) * plane + std::size_t(rr) * W + std::size_t(cc)];
        }
    return s;
  };
  return gaussian_log_prob(
      z, B, [&](std::size_t b, std::size_t i) { return conv_out(b, 2 * (i / plane), i % plane); },
      [&](std::size_t b, std::size_t i) { return conv_out(b, 2 * (i / plane) + 1, i % plane); });
}

}  // namespace

std::vector<ModuleCase> all_module_cases() {
  std::vector<ModuleCase> cases;
  using M = std::shared_ptr<Module<double>>;
  auto split_outputs = [](Module<double>& m, const Var64& x) -> std::vector<Var64> {
    SplitOutput<double> out = dynamic_cast<Split<double>&>(m).forward(x);
    return {out.kept, out.z, out.log_prob};
  };
  for (bool learned : {false, true})
    cases.push_back({learned ? "Split(learned prior)" : "Split(standard normal)",
                     [learned](Rng&) -> M { return std::make_shared<Split<double>>(4, learned); },
                     split_outputs, {2, 4, 3, 4},
                     [learned](Module<double>& m, const Tensor64& x) {
                       return split_reference_log_prob(m, x, learned);
                     }});
  auto distribution_outputs = [](Module<double>& m, const Var64& z) -> std::vector<Var64> {
    return {dynamic_cast<Distribution<double>&>(m).log_prob(z)};
  };
  cases.push_back({"DiagonalGaussian(image)",
                   [](Rng&) -> M { return std::make_shared<DiagonalGaussian<double>>(Shape{2, 2, 3}); },
                   distribution_outputs, {3, 2, 2, 3},
                   [](Module<double>& m, const Tensor64& z) {
                     const Tensor64 mean = parameter(m, "mean"), log_sd = parameter(m, "log_sd");
                     return gaussian_log_prob(z, z.shape()[0],
                                              [&](std::size_t, std::size_t i) { return mean[i]; },
                                              [&](std::size_t, std::size_t i) { return log_sd[i]; });
                   }});
  cases.push_back({"StandardNormal", [](Rng&) -> M { return std::make_shared<StandardNormal<double>>(); },
                   distribution_outputs, {3, 5},
                   [](Module<double>&, const Tensor64& z) {
                     return gaussian_log_prob(z, z.shape()[0], [](std::size_t, std::size_t) { return 0.0; },
                                              [](std::size_t, std::size_t) { return 0.0; });
                   }});
  return cases;
}

}  // namespace fz::testing
