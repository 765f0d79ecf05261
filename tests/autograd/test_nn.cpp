// tests/autograd/test_nn.cpp — Module registration, naming, train/eval and state dicts;
// Linear and Conv2d (plain, weight-normalised, zero-initialised, output-scaled, as fused
// stages), checked against hand computations and by gradcheck in float64.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/nn/conv2d.hpp"
#include "autograd/nn/linear.hpp"
#include "autograd/nn/module.hpp"
#include "autograd/ops.hpp"

using namespace fz;

namespace {

// Two Linear layers as children "0" and "2" with a tanh between them (a network module).
class TwoLayers : public Layer<double> {
 public:
  explicit TwoLayers(Rng& rng) {
    first = register_module("0", std::make_shared<Linear<double>>(3, 4, rng));
    second = register_module("2", std::make_shared<Linear<double>>(4, 2, rng));
  }
  Var64 forward(const Var64& x) override { return (*second)(tanh((*first)(x))); }
  // Exposes the protected registration so a test can add a child after a mode change.
  void add_child_layer(const std::string& name, std::shared_ptr<Layer<double>> child) {
    register_module(name, std::move(child));
  }
  std::shared_ptr<Linear<double>> first, second;
};

// A bijector-like module: a parameter, a persistent flag and a child network.
class Block : public Module<double> {
 public:
  explicit Block(Rng& rng) {
    scale = register_parameter("scale", Tensor64({2}, {1.0, 2.0}));
    initialised = register_buffer("initialised", Tensor64::scalar(0.0));
    net = register_module("net", std::make_shared<TwoLayers>(rng));
  }
  std::string type_name() const override { return "Block"; }
  Var64 forward(const Var64& x) { return (*net)(x) * scale; }

  // Exposes the protected registration calls so tests can probe their errors.
  void add_param(const std::string& name) { register_parameter(name, Tensor64({1})); }
  void add_buffer(const std::string& name) { register_buffer(name, Tensor64({1})); }

  Var64 scale;
  Tensor64 initialised;
  std::shared_ptr<TwoLayers> net;
};

class Outer : public Module<double> {
 public:
  explicit Outer(Rng& rng) {
    first = register_module("first", std::make_shared<Block>(rng));
    register_buffer("count", Tensor64({3}));
    second = register_module("second", std::make_shared<Block>(rng));
  }
  std::shared_ptr<Block> first, second;
};

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Var64>>& named) {
  std::vector<std::string> out;
  for (const auto& p : named) out.push_back(p.first);
  return out;
}

// Direct convolution by definition, for checking the layer.
Tensor64 naive_conv(const Tensor64& x, const Tensor64& w, const Tensor64& b, std::size_t stride,
                    std::size_t pad) {
  const std::size_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t O = w.shape()[0], K = w.shape()[2];
  const std::size_t Ho = (H + 2 * pad - K) / stride + 1, Wo = (W + 2 * pad - K) / stride + 1;
  Tensor64 y({N, O, Ho, Wo});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t o = 0; o < O; ++o)
      for (std::size_t i = 0; i < Ho; ++i)
        for (std::size_t j = 0; j < Wo; ++j) {
          double s = b.defined() ? b[o] : 0.0;
          for (std::size_t c = 0; c < C; ++c)
            for (std::size_t ki = 0; ki < K; ++ki)
              for (std::size_t kj = 0; kj < K; ++kj) {
                const long r = static_cast<long>(i * stride + ki) - static_cast<long>(pad);
                const long q = static_cast<long>(j * stride + kj) - static_cast<long>(pad);
                if (r < 0 || q < 0 || r >= static_cast<long>(H) || q >= static_cast<long>(W)) continue;
                s += x.at({n, c, std::size_t(r), std::size_t(q)}) * w.at({o, c, ki, kj});
              }
          y.at({n, o, i, j}) = s;
        }
  return y;
}

}  // namespace

TEST_CASE("module: dotted names in registration order, buffers, counts", "[nn]") {
  Rng rng(1);
  Outer outer(rng);
  const std::vector<std::string> block = {"scale", "net.0.weight", "net.0.bias", "net.2.weight",
                                          "net.2.bias"};
  std::vector<std::string> expected;
  for (const auto& n : block) expected.push_back("first." + n);
  for (const auto& n : block) expected.push_back("second." + n);
  REQUIRE(names_of(outer.named_parameters()) == expected);
  REQUIRE(outer.parameters().size() == 10);
  // Handles are shared, not copies.
  REQUIRE(outer.parameters()[0].node_id() == outer.first->scale.node_id());
  REQUIRE(outer.num_parameters() == 2 * (2 + 12 + 4 + 8 + 2));

  const auto buffers = outer.named_buffers();
  REQUIRE(buffers.size() == 3);
  REQUIRE(buffers[0].first == "count");
  REQUIRE(buffers[1].first == "first.initialised");
  REQUIRE(buffers[2].first == "second.initialised");
  // A buffer handle shares storage with the registry.
  outer.first->initialised.fill(1.0);
  REQUIRE(outer.first->buffer("initialised").item() == 1.0);
  REQUIRE(outer.children().size() == 2);
  REQUIRE(outer.first->has_parameter("scale"));
  REQUIRE(!outer.first->has_parameter("net"));
  REQUIRE_THROWS_AS(outer.first->parameter("nope"), std::out_of_range);
}

TEST_CASE("module: registration errors", "[nn]") {
  Rng rng(2);
  Block b(rng);
  REQUIRE_THROWS_WITH(b.add_param("scale"), Catch::Contains("already registered"));
  REQUIRE_THROWS_WITH(b.add_buffer("net"), Catch::Contains("already registered"));
  REQUIRE_THROWS_WITH(b.add_param("a.b"), Catch::Contains("'a.b'"));
  REQUIRE_THROWS_AS(b.add_param(""), std::invalid_argument);
  REQUIRE_THROWS_AS(b.net->add_child_layer("x", nullptr), std::invalid_argument);
}

TEST_CASE("module: a shared parameter is listed once", "[nn]") {
  struct Tied : Module<double> {
    explicit Tied(const Var64& w) {
      register_parameter("a", w);
      register_parameter("b", w);
    }
  };
  Var64 w(Tensor64({2}), true);
  Tied t(w);
  REQUIRE(t.parameters().size() == 1);
  REQUIRE(t.state_dict().size() == 2);  // both names are saved, like PyTorch
}

TEST_CASE("module: train/eval propagates to every descendant", "[nn]") {
  Rng rng(3);
  Outer outer(rng);
  REQUIRE(outer.is_training());
  outer.eval();
  REQUIRE(!outer.is_training());
  REQUIRE(!outer.first->is_training());
  REQUIRE(!outer.second->net->is_training());
  REQUIRE(!outer.second->net->second->is_training());
  outer.first->train();
  REQUIRE(outer.first->net->is_training());
  REQUIRE(!outer.second->is_training());
  // A child registered into an eval-mode module takes its mode.
  Rng rng2(30);
  TwoLayers net(rng2);
  net.eval();
  auto late = std::make_shared<Linear<double>>(2, 2, rng2);
  net.add_child_layer("late", late);
  REQUIRE(!late->is_training());
}

TEST_CASE("module: zero_grad clears every parameter gradient", "[nn]") {
  Rng rng(4);
  Block b(rng);
  Var64 x(rng.normal<double>({5, 3}));
  sum(b.forward(x)).backward();
  for (const auto& p : b.parameters()) REQUIRE(p.grad().defined());
  b.zero_grad();
  for (const auto& p : b.parameters()) REQUIRE(!p.grad().defined());
}

TEST_CASE("module: state_dict round trip and load errors", "[nn]") {
  Rng rng_a(5), rng_b(6);
  Block a(rng_a), b(rng_b);
  a.initialised.fill(1.0);
  Var64 x(rng_a.normal<double>({4, 3}));
  const Tensor64 ya = a.forward(x).value();
  REQUIRE(b.forward(x).value()[0] != Approx(ya[0]));

  const StateDict<double> state = a.state_dict();
  REQUIRE(state.names() == std::vector<std::string>{"scale", "net.0.weight", "net.0.bias",
                                                    "net.2.weight", "net.2.bias", "initialised"});
  const Var64 handle = b.scale;
  b.load_state_dict(state);
  const Tensor64 yb = b.forward(x).value();
  for (std::size_t i = 0; i < ya.numel(); ++i) REQUIRE(yb[i] == ya[i]);
  REQUIRE(b.initialised.item() == 1.0);  // buffers too, through the subclass's handle
  REQUIRE(handle.node_id() == b.parameters()[0].node_id());  // loaded in place
  // Values are copied, not aliased: changing a afterwards leaves b alone.
  a.scale.mutable_value()[0] = 42.0;
  REQUIRE(b.scale.value()[0] != 42.0);

  SECTION("missing and unexpected names") {
    StateDict<double> partial;
    for (const auto& e : state)
      if (e.first != "net.0.bias") partial.insert(e.first, e.second);
    partial.insert("extra.weight", Tensor64({1}));
    REQUIRE_THROWS_WITH(b.load_state_dict(partial),
                        Catch::Contains("Missing: 'net.0.bias'") &&
                            Catch::Contains("Unexpected: 'extra.weight'"));
    b.load_state_dict(partial, /*strict=*/false);  // ignores both
  }
  SECTION("shape mismatch leaves the module unchanged") {
    StateDict<double> bad;
    for (const auto& e : state)
      bad.insert(e.first, e.first == "net.2.bias" ? Tensor64({3}) : e.second.clone());
    bad.insert("zzz", Tensor64({1}));
    Block c(rng_b);
    const double before = c.scale.value()[0];
    REQUIRE_THROWS_WITH(c.load_state_dict(bad, false),
                        Catch::Contains("net.2.bias") && Catch::Contains("(3,)") &&
                            Catch::Contains("(2,)"));
    REQUIRE(c.scale.value()[0] == before);
  }
  REQUIRE_THROWS_AS(state.at("nope"), std::out_of_range);
}

TEST_CASE("linear: forward is x W^T + b, default init bounds, zero init", "[nn]") {
  Rng rng(7);
  Linear<double> lin(3, 2, rng);
  REQUIRE(lin.weight().shape() == Shape{2, 3});
  const double bound = 1.0 / std::sqrt(3.0);
  for (double w : lin.weight().value()) REQUIRE(std::abs(w) <= bound);
  for (double b : lin.bias().value()) REQUIRE(std::abs(b) <= bound);
  lin.parameters()[0].mutable_value().copy_from(Tensor64({2, 3}, {1, 2, 3, -1, 0, 0.5}));
  lin.parameters()[1].mutable_value().copy_from(Tensor64({2}, {0.5, -2}));
  Var64 x(Tensor64({2, 3}, {1, 1, 1, 2, -1, 4}));
  const Tensor64 y = lin(x).value();
  REQUIRE(y.shape() == Shape{2, 2});
  REQUIRE(y[0] == Approx(6.5));   // 1+2+3 + 0.5
  REQUIRE(y[1] == Approx(-2.5));  // -1 + 0.5 - 2
  REQUIRE(y[2] == Approx(12.5));  // 2-2+12 + 0.5
  REQUIRE(y[3] == Approx(-2.0));  // -2 + 2 - 2
  REQUIRE_THROWS_WITH(lin(Var64(Tensor64({2, 4}))), Catch::Contains("(2, 4)"));

  Linear<float> nb(4, 5, rng, false, LinearInit::Zeros);
  REQUIRE(nb.parameters().size() == 1);
  REQUIRE(!nb.bias().defined());
  const Tensor32 z = nb(Var32(rng.normal<float>({3, 4}))).value();
  for (float v : z) REQUIRE(v == 0.0f);

  // Default init draws the weight, then the bias, each U(+-1/sqrt(in)), from the Rng.
  Rng r1(70), r2(70);
  Linear<float> drawn(5, 3, r1);
  const Tensor32 w = r2.uniform<float>({3, 5}, -1.0f / std::sqrt(5.0f), 1.0f / std::sqrt(5.0f));
  const Tensor32 b = r2.uniform<float>({3}, -1.0f / std::sqrt(5.0f), 1.0f / std::sqrt(5.0f));
  REQUIRE(drawn.weight().value().to_vector() == w.to_vector());
  REQUIRE(drawn.bias().value().to_vector() == b.to_vector());
  // A zero-initialised layer draws nothing.
  Rng r3(71), r4(71);
  Linear<float> zero(5, 3, r3, true, LinearInit::Zeros);
  REQUIRE(r3.uniform() == r4.uniform());
}

TEST_CASE("linear: forward_relu is relu(forward) (the fused op)", "[nn]") {
  Rng rng(72);
  Linear<double> lin(4, 6, rng);
  Var64 x(rng.normal<double>({3, 4}));
  const Tensor64 fused = lin.forward_relu(x).value();
  const Tensor64 plain = relu(lin(x)).value();
  for (std::size_t i = 0; i < fused.numel(); ++i) REQUIRE(fused[i] == Approx(plain[i]).margin(1e-14));
}

TEST_CASE("linear: gradcheck with respect to input, weight and bias", "[nn]") {
  Rng rng(8);
  Linear<double> lin(3, 4, rng);
  const auto f = [&lin](const std::vector<Var64>& in) {
    return lin.forward_with(in[0], {in[1], in[2]});
  };
  const auto r = gradcheck(f, {rng.normal<double>({2, 3}), lin.weight().value(), lin.bias().value()});
  INFO(r.message);
  REQUIRE(r.ok);
  // forward_with with the module's own parameters is forward.
  Var64 x(rng.normal<double>({2, 3}));
  REQUIRE(lin.forward_with(x, lin.parameters()).value()[3] == lin(x).value()[3]);
}

TEST_CASE("conv2d: forward matches a direct convolution", "[nn]") {
  Rng rng(9);
  SECTION("hand-computed 3x3 input, 2x2 kernel") {
    Conv2dOptions o;
    o.kernel_size = 2;
    Conv2d<double> conv(1, 1, rng, o);
    conv.parameters()[0].mutable_value().copy_from(Tensor64({1, 1, 2, 2}, {1, 0, -1, 2}));
    conv.parameters()[1].mutable_value().copy_from(Tensor64({1}, {0.5}));
    Var64 x(Tensor64({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
    const Tensor64 y = conv(x).value();
    REQUIRE(y.shape() == Shape{1, 1, 2, 2});
    REQUIRE(y[0] == Approx(1 - 4 + 10 + 0.5));  // 1*1 + 0*2 - 1*4 + 2*5
    REQUIRE(y[1] == Approx(2 - 5 + 12 + 0.5));
    REQUIRE(y[2] == Approx(4 - 7 + 16 + 0.5));
    REQUIRE(y[3] == Approx(5 - 8 + 18 + 0.5));
  }
  SECTION("stride 2, padding 1, several channels") {
    Conv2dOptions o;
    o.kernel_size = 3;
    o.stride = 2;
    o.padding = 1;
    Conv2d<double> conv(3, 4, rng, o);
    Var64 x(rng.normal<double>({2, 3, 5, 5}));
    const Tensor64 y = conv(x).value();
    const Tensor64 ref = naive_conv(x.value(), conv.weight().value(), conv.parameters()[1].value(), 2, 1);
    REQUIRE(y.shape() == ref.shape());
    for (std::size_t i = 0; i < y.numel(); ++i) REQUIRE(y[i] == Approx(ref[i]).margin(1e-12));
    REQUIRE_THROWS_WITH(conv(Var64(Tensor64({1, 2, 5, 5}))), Catch::Contains("(1, 2, 5, 5)"));
  }
}

TEST_CASE("conv2d: weight normalisation w = g v / ||v||", "[nn]") {
  Rng rng(10);
  Conv2dOptions o;
  o.kernel_size = 3;
  o.padding = 1;
  o.weight_norm = true;
  Conv2d<double> conv(2, 3, rng, o);
  const auto named = conv.named_parameters();
  REQUIRE(named[0].first == "v");
  REQUIRE(named[1].first == "g");
  REQUIRE(named[1].second.shape() == Shape{3});
  REQUIRE(named[2].first == "bias");
  // At initialisation g = ||v||, so w = v.
  const Tensor64& v = named[0].second.value();
  Tensor64 w = conv.weight().value();
  for (std::size_t i = 0; i < w.numel(); ++i) REQUIRE(w[i] == Approx(v[i]));
  // Set g = (1, 2, 3): each output channel of w then has norm g.
  conv.parameters()[1].mutable_value().copy_from(Tensor64({3}, {1, 2, 3}));
  w = conv.weight().value();
  for (std::size_t oc = 0; oc < 3; ++oc) {
    double s = 0;
    for (std::size_t j = 0; j < 18; ++j) s += w[oc * 18 + j] * w[oc * 18 + j];
    REQUIRE(std::sqrt(s) == Approx(double(oc + 1)));
    REQUIRE(w[oc * 18] / v[oc * 18] == Approx(w[oc * 18 + 5] / v[oc * 18 + 5]));  // same direction
  }
}

TEST_CASE("conv2d: gradcheck of a weight-normalised conv (input, g, v, bias)", "[nn]") {
  Rng rng(11);
  Conv2dOptions o;
  o.kernel_size = 3;
  o.padding = 1;
  o.weight_norm = true;
  Conv2d<double> conv(2, 2, rng, o);
  const auto f = [&conv](const std::vector<Var64>& in) {
    return conv.forward_with(in[0], {in[1], in[2], in[3]});
  };
  std::vector<Tensor64> inputs = {rng.normal<double>({1, 2, 4, 4})};
  for (const auto& p : conv.parameters()) inputs.push_back(p.value());
  inputs[2] = Tensor64({2}, {0.7, -1.3});  // a chosen g instead of the module's ||v||
  const auto r = gradcheck(f, inputs);
  INFO(r.message);
  REQUIRE(r.ok);
}

TEST_CASE("conv2d: zero initialisation and Glow's learned output scale", "[nn]") {
  Rng rng(12);
  SECTION("plain zero init: output exactly 0") {
    Conv2dOptions o;
    o.padding = 1;
    o.init = Conv2dInit::Zeros;
    Conv2d<float> conv(3, 4, rng, o);
    const Tensor32 y = conv(Var32(rng.normal<float>({2, 3, 4, 4}))).value();
    for (float v : y) REQUIRE(v == 0.0f);
  }
  SECTION("weight-normalised zero init: g = 0, v random, g still gets a gradient") {
    Conv2dOptions o;
    o.padding = 1;
    o.init = Conv2dInit::Zeros;
    o.weight_norm = true;
    Conv2d<double> conv(2, 2, rng, o);
    Var64 x(rng.normal<double>({1, 2, 3, 3}));
    Var64 y = conv(x);
    for (double v : y.value()) REQUIRE(v == 0.0);
    for (double v : conv.parameters()[0].value()) REQUIRE(std::isfinite(v));
    sum(y * y + y).backward();
    double gnorm = 0;
    for (double v : conv.parameters()[1].grad()) gnorm += std::abs(v);
    REQUIRE(gnorm > 0.0);
  }
  SECTION("output_log_scale: y * exp(3 logs) per channel, gradcheck") {
    Conv2dOptions o;
    o.kernel_size = 1;
    o.output_log_scale = 3.0;
    Conv2d<double> conv(2, 2, rng, o);
    REQUIRE(conv.named_parameters().back().first == "logscale");
    Var64 x(rng.normal<double>({1, 2, 2, 2}));
    const Tensor64 y0 = conv(x).value();
    conv.parameters()[2].mutable_value().copy_from(Tensor64({2}, {0.1, -0.2}));
    const Tensor64 y1 = conv(x).value();
    REQUIRE(y1[0] == Approx(y0[0] * std::exp(0.3)));
    REQUIRE(y1[7] == Approx(y0[7] * std::exp(-0.6)));
    const auto f = [&conv](const std::vector<Var64>& in) {
      return conv.forward_with(in[0], {in[1], in[2], in[3]});
    };
    std::vector<Tensor64> inputs = {x.value()};
    for (const auto& p : conv.parameters()) inputs.push_back(p.value());
    const auto r = gradcheck(f, inputs);
    INFO(r.message);
    REQUIRE(r.ok);
  }
}

TEST_CASE("conv2d: affine_stage and forward_fused equal the plain layer", "[nn]") {
  Rng rng(15);
  NoGradGuard values_only;  // (gradients of the fused ops: tests/autograd/test_reference_ops.cpp)
  for (const bool wn : {false, true})
    for (const double log_scale : {0.0, 3.0}) {
      Conv2dOptions o;
      o.padding = 1;
      o.weight_norm = wn;
      o.output_log_scale = log_scale;
      Conv2d<double> a(3, 4, rng, o), b(4, 2, rng, o);
      if (log_scale > 0)
        for (Conv2d<double>* c : {&a, &b}) c->parameters().back().mutable_value().copy_from(rng.normal<double>({c->out_channels()}, 0.0, 0.3));
      INFO("weight_norm " << wn << ", output_log_scale " << log_scale);
      Var64 x(rng.normal<double>({2, 3, 5, 5}));
      const Tensor64 plain = b(relu(a(relu(x)))).value();
      const Tensor64 chained =
          conv2d_affine_chain(x, /*relu_input=*/true, {a.affine_stage(true), b.affine_stage(false)}).value();
      const Tensor64 fused = b.forward_fused(a.forward_fused(x, true, true), false, false).value();
      REQUIRE(plain.shape() == chained.shape());
      for (std::size_t i = 0; i < plain.numel(); ++i) {
        REQUIRE(chained[i] == Approx(plain[i]).margin(1e-12));
        REQUIRE(fused[i] == Approx(plain[i]).margin(1e-12));
      }
    }
}
