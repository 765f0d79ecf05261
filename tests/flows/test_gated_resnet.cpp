// tests/flows/test_gated_resnet.cpp — Flow++'s gated residual conditioner
// (flows/conditioners/gated_resnet.hpp): its pieces against plain formulas (concat_elu, the
// gate, the channel layer norm, attention weights summing to one), the output shape and the
// zero output at initialisation (with and without attention), a coupling built with it that
// starts as the identity (affine and logistic-mixture transformers), float64 full-Jacobian gradchecks of one gated block (input, conv
// weights and biases, norm gain and bias), of the attention and of the whole conditioner
// w.r.t. its input once the zero output conv is perturbed; and its refusals.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/ops.hpp"
#include "flows/bijectors/coupling_factories.hpp"
#include "flows/conditioners/gated_resnet.hpp"
#include "flows/transformers/affine.hpp"
#include "flows/transformers/logistic_mixture.hpp"
#include "tests/gradcheck_helpers.hpp"

using namespace fz;
using fz::test::random_uniform;
using fz::test::require_gradcheck;

TEST_CASE("gated resnet: concat_elu, the gate and the channel layer norm match their formulas", "[gated]") {
  const Tensor64 x = random_uniform({2, 3, 2, 2}, 1);
  const Tensor64 ce = concat_elu(Var64(x)).value();
  REQUIRE(ce.shape() == Shape{2, 6, 2, 2});
  auto elu1 = [](double v) { return v > 0 ? v : std::expm1(v); };
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t p = 0; p < 4; ++p) {
        const double v = x[(b * 3 + c) * 4 + p];
        CHECK(ce[(b * 6 + c) * 4 + p] == Approx(elu1(v)).margin(1e-15));
        CHECK(ce[(b * 6 + 3 + c) * 4 + p] == Approx(elu1(-v)).margin(1e-15));
      }
  const Tensor64 two = random_uniform({1, 4, 1, 3}, 2);
  const Tensor64 g = gated_linear_unit(Var64(two)).value();
  REQUIRE(g.shape() == Shape{1, 2, 1, 3});
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t p = 0; p < 3; ++p)
      CHECK(g[c * 3 + p] == Approx(two[c * 3 + p] / (1 + std::exp(-two[(c + 2) * 3 + p]))).epsilon(1e-13));
  Tensor64 gain({3}), bias({3});
  for (std::size_t c = 0; c < 3; ++c) gain[c] = 0.5 + c, bias[c] = 0.1 * double(c);
  const Tensor64 n = channel_layer_norm(Var64(x), Var64(gain), Var64(bias)).value();
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t p = 0; p < 4; ++p) {
      double mu = 0, var = 0;
      for (std::size_t c = 0; c < 3; ++c) mu += x[(b * 3 + c) * 4 + p] / 3;
      for (std::size_t c = 0; c < 3; ++c) var += std::pow(x[(b * 3 + c) * 4 + p] - mu, 2) / 3;
      for (std::size_t c = 0; c < 3; ++c)
        CHECK(n[(b * 3 + c) * 4 + p] ==
              Approx((x[(b * 3 + c) * 4 + p] - mu) / std::sqrt(var + 1e-5) * gain[c] + bias[c]).epsilon(1e-12));
    }
}

TEST_CASE("gated resnet: attention is a convex combination of the values over the positions", "[gated]") {
  // With every value channel constant over the positions, each output equals that constant.
  Tensor64 qkv = random_uniform({2, 3 * 4, 2, 3}, 3);
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t c = 8; c < 12; ++c)
      for (std::size_t p = 0; p < 6; ++p) qkv[(b * 12 + c) * 6 + p] = double(b * 10 + c);
  const Tensor64 out = multi_head_attention(Var64(qkv), 2).value();
  REQUIRE(out.shape() == Shape{2, 4, 2, 3});
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t c = 0; c < 4; ++c)
      for (std::size_t p = 0; p < 6; ++p) CHECK(out[(b * 4 + c) * 6 + p] == Approx(double(b * 10 + c + 8)));
  CHECK_THROWS_AS(multi_head_attention(Var64(qkv), 3), std::invalid_argument);  // 3 does not divide F = 4
}

TEST_CASE("gated resnet: output shape, zero output at initialisation, identity coupling", "[gated]") {
  for (std::size_t heads : {0, 2}) {
    INFO("attention heads " << heads);
    Rng rng(4);
    GatedResNetOptions o;
    o.features = 4;
    o.blocks = 2;
    o.attention_heads = heads;
    o.height = 3;
    o.width = 4;
    GatedResNetConditioner<double> net(2, 6, o, rng);
    const Tensor64 x = random_uniform({2, 2, 3, 4}, 5);
    const Tensor64 y = net.forward(Var64(x)).value();
    REQUIRE(y.shape() == Shape{2, 6, 3, 4});
    double largest = 0;
    for (std::size_t i = 0; i < y.numel(); ++i) largest = std::max(largest, std::abs(y[i]));
    CHECK(largest == 0.0);
    // proj_in 9*2*4+4, blocks 2 x (9*8*4+4 + 8*8+8 + 8), proj_out 9*4*6+6; attention per block
    // (4*12+12) + (4*8+8) + 4*3*4 + 8.
    const std::size_t expected = 76 + 2 * (292 + 72 + 8) + 222 + (heads ? 2 * (60 + 40 + 48 + 8) : 0);
    CHECK(net.num_parameters() == expected);
    CHECK_THROWS_AS(net.forward(Var64(random_uniform({1, 3, 3, 4}, 6))), std::invalid_argument);
  }
  // A coupling starts as the identity, log-det 0: with an affine transformer, and with the logistic
  // mixture, whose zero parameters give K equal standard logistics, y = logit(sigmoid(x)) = x.
  for (int mixture = 0; mixture < 2; ++mixture) {
    Rng rng(7);
    GatedResNetOptions o;
    o.features = 4;
    o.blocks = 1;
    std::shared_ptr<Transformer<double>> tau;
    if (mixture) tau = std::make_shared<LogisticMixtureTransformer<double>>(3);
    else tau = std::make_shared<AffineTransformer<double>>(2, false);
    auto coupling = make_gated_coupling<double>(4, Partition{PartitionKind::ChannelHalves, false}, o, rng, tau);
    const Tensor64 x = random_uniform({3, 4, 2, 2}, 8);
    const auto out = coupling->forward(Var64(x));
    for (std::size_t i = 0; i < x.numel(); ++i) CHECK(out.value.value()[i] == Approx(x[i]).margin(1e-12));
    for (std::size_t i = 0; i < out.logdet.value().numel(); ++i) CHECK(out.logdet.value()[i] == Approx(0).margin(1e-12));
  }
}

TEST_CASE("gated resnet: float64 gradcheck of a gated block (input, convs, norm) and of attention", "[gated]") {
  // layer_norm(h + glu(conv1x1(concat_elu(conv3x3(concat_elu(h)))))) — the conditioner's block.
  const VarFunction64 block = [](const std::vector<Var64>& in) {
    const Var64 a = conv2d(concat_elu(in[0]), in[1], in[2], 1, 1);
    const Var64 c = conv2d(concat_elu(a), in[3], in[4], 1, 0);
    return channel_layer_norm(in[0] + gated_linear_unit(c), in[5], in[6]);
  };
  const std::size_t f = 2;
  Tensor64 gain = random_uniform({f}, 15, 0.5, 1.5);
  require_gradcheck(block, {random_uniform({2, f, 3, 3}, 9), random_uniform({f, 2 * f, 3, 3}, 10, -0.5, 0.5),
                            random_uniform({f}, 11), random_uniform({2 * f, 2 * f, 1, 1}, 12, -0.5, 0.5),
                            random_uniform({2 * f}, 13), gain, random_uniform({f}, 14)});
  const VarFunction64 attention = [](const std::vector<Var64>& in) { return multi_head_attention(in[0], 2); };
  require_gradcheck(attention, {random_uniform({2, 3 * 4, 2, 2}, 16)});
}

TEST_CASE("gated resnet: float64 gradcheck of the whole conditioner (with attention) w.r.t. its input", "[gated]") {
  Rng rng(17);
  GatedResNetOptions o;
  o.features = 4;
  o.blocks = 1;
  o.attention_heads = 2;
  o.weight_norm = true;
  o.height = 2;
  o.width = 2;
  auto net = std::make_shared<GatedResNetConditioner<double>>(1, 3, o, rng);
  // Move the zero output conv off zero, or the Jacobian is identically 0.
  std::uint64_t seed = 18;
  for (Var64 p : net->proj_out().parameters()) p.mutable_value().copy_from(random_uniform(p.shape(), seed++, 0.2, 0.8));
  const VarFunction64 f = [net](const std::vector<Var64>& in) { return net->forward(in[0]); };
  require_gradcheck(f, {random_uniform({2, 1, 2, 2}, 19)});
}

TEST_CASE("gated resnet: refuses zero sizes, heads not dividing the features, attention without the image size",
          "[gated]") {
  Rng rng(20);
  GatedResNetOptions o;
  o.features = 4;
  o.blocks = 0;
  CHECK_THROWS_AS(GatedResNetConditioner<float>(2, 2, o, rng), std::invalid_argument);
  o.blocks = 1;
  o.attention_heads = 3;
  o.height = o.width = 2;
  CHECK_THROWS_AS(GatedResNetConditioner<float>(2, 2, o, rng), std::invalid_argument);
  o.attention_heads = 2;
  o.height = 0;
  CHECK_THROWS_AS(GatedResNetConditioner<float>(2, 2, o, rng), std::invalid_argument);
}
