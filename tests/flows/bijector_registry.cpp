// tests/flows/bijector_registry.cpp — every bijector in flowzoo, at a small size, for the
// conformance checks in test_conformance.cpp. Keep one section per family.
#include "tests/flows/bijector_registry.hpp"

#include "flows/bijectors/preprocessing.hpp"
#include "flows/bijectors/additive_coupling.hpp"
#include "flows/bijectors/affine_coupling.hpp"
#include "flows/bijectors/batch_norm.hpp"
#include "flows/bijectors/diagonal_scaling.hpp"
#include "flows/bijectors/permutation.hpp"
#include "flows/bijectors/squeeze.hpp"
#include "flows/conditioners/mlp.hpp"
#include "flows/conditioners/resnet.hpp"
#include "flows/bijectors/actnorm.hpp"
#include "flows/bijectors/glow_coupling.hpp"
#include "flows/bijectors/invertible_conv1x1.hpp"
#include "examples/leaky_relu_bijector.hpp"  // a bijector written outside flows/ (examples/)

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
    cases.push_back({"BatchNormBijector(vector)",
                     [](Rng&) -> B { return std::make_shared<BatchNormBijector<double>>(6, 0.5); },
                     {3, 6}});
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
  cases.push_back({"GlowCoupling(4, affine)",
                   [](Rng& rng) -> B { return std::make_shared<GlowCoupling<double>>(4, 8, rng, true); },
                   {2, 4, 3, 3}});
  cases.push_back({"GlowCoupling(4, additive)",
                   [](Rng& rng) -> B { return std::make_shared<GlowCoupling<double>>(4, 8, rng, false); },
                   {2, 4, 3, 3}});
  cases.push_back({"glow_step(4, LU, affine)",
                   [](Rng& rng) -> B { return glow_step<double>(4, 8, rng, true, true); },
                   {2, 4, 3, 3}});
  cases.push_back({"glow_step(4, plain, additive)",
                   [](Rng& rng) -> B { return glow_step<double>(4, 8, rng, false, false); },
                   {2, 4, 4, 4}});

  // ---- examples/ (a contributor's bijector, see README "Writing a bijector") ----------------
  cases.push_back({"LeakyReLUBijector(4) vectors (examples/)",
                   [](Rng&) -> B { return std::make_shared<LeakyReLUBijector<double>>(4, 0.5); },
                   {3, 4}});

  return cases;
}

}  // namespace fz::testing
