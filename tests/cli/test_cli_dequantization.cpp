// tests/cli/test_cli_dequantization.cpp — `train --dequantization variational` and `eval
// --importance-samples` on a tiny Glow (Fashion-MNIST, L = 2, K = 1, hidden 4, q(u | x) with 4
// channels): the dequantizer's parameters are in the checkpoint and trained, the run resumes
// bit-exactly (parameters, optimiser, Polyak averages), config.json and results.json say which
// dequantization it is, eval with S = 1 reproduces the final evaluation and says which bound it
// prints (inspect's rows add up to it, -log q among them), S > 1 reports the importance-weighted bound with a standard error, and the refusals
// (toy data, unknown kinds, absurd S, a changed --dequantization on --resume) exit 2.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "cli/checkpoint.hpp"
#include "cli_helpers.hpp"
#include "tensor/safetensors.hpp"

using namespace fz;
using namespace fz::cli;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return fz::test::fresh_temp_path("dequant", name); }

TrainRequest tiny_variational(const std::string& out, std::size_t steps) {
  TrainRequest r = fz::test::tiny_glow_request(out, steps, 2, 1, 4);
  r.config.batch = 8;
  r.config.final_eval_limit = 16;
  r.config.train.polyak_decay = 0.9;
  r.config.dequantization = "variational";
  r.config.dequant_hidden = 4;
  return r;
}

const std::string kTinyFlags =
    "train --model glow --levels 2 --steps-per-level 1 --hidden 4 --steps 2 --batch 8 --threads 1 --eval-every 0 "
    "--sample-every 0 --final-eval-limit 16 --dequant-hidden 4";

}  // namespace

TEST_CASE("cli: train --dequantization variational trains q(u | x), saves it and resumes bit-exactly",
          "[cli][dequantization]") {
  const std::string a = temp_dir("straight"), b = temp_dir("resumed");
  REQUIRE(run_train(tiny_variational(a, 4)) == kExitOk);
  REQUIRE(run_train(tiny_variational(b, 2)) == kExitOk);
  TrainRequest resume = tiny_variational(b, 4);
  resume.resume = true;
  REQUIRE(run_train(resume) == kExitOk);

  const NamedTensors ta = load_safetensors(a + "/checkpoint.safetensors");
  const NamedTensors tb = load_safetensors(b + "/checkpoint.safetensors");
  REQUIRE(ta.f32.size() == tb.f32.size());
  std::size_t dequantizer = 0, averaged = 0;
  for (std::size_t i = 0; i < ta.f32.size(); ++i) {
    INFO(ta.f32[i].first);
    REQUIRE(ta.f32[i].first == tb.f32[i].first);
    REQUIRE(ta.f32[i].second.to_vector() == tb.f32[i].second.to_vector());  // bit-identical
    dequantizer += ta.f32[i].first.rfind("model.dequantizer.", 0) == 0;
    averaged += ta.f32[i].first.rfind("ema.", 0) == 0;
  }
  CHECK(dequantizer >= 2 * 2 + 4 * 5);  // features1/2 weight and bias; 4 couplings: scale, 2 convs
  CHECK(averaged > dequantizer);        // the averages cover the flow and the dequantizer

  // The dequantizer's zero-initialised output convolution has moved: it is trained.
  double moved = 0;
  for (const auto& [name, t] : ta.f32)
    if (name == "model.dequantizer.coupling0.net.out.weight")
      for (float v : t.to_vector()) moved = std::max(moved, std::abs(double(v)));
  CHECK(moved > 0);
  const nlohmann::json config = fz::test::read_json(a + "/config.json");
  CHECK(config["dequantization"]["kind"] == "variational");
  CHECK(config["dequantization"]["hidden"] == 4);
  CHECK(fz::test::read_json(a + "/results.json")["dequantization"] == "variational");
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("cli: eval of a variational run: S = 1 is the final evaluation, --importance-samples S the tighter bound",
          "[cli][dequantization]") {
  const std::string out = temp_dir("eval");
  auto r = fz::test::run_flowzoo(kTinyFlags + " --dequantization variational --out " + out, temp_dir("io"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("dequantization: variational") != std::string::npos);
  CHECK(r.out.find("(variational bound)") != std::string::npos);
  const double final_bpd = fz::test::read_json(out + "/results.json")["test_bpd"].get<double>();
  const std::string eval = "eval --checkpoint " + out + "/checkpoint.safetensors --limit 16 --json";
  r = fz::test::run_flowzoo(eval, temp_dir("io"));
  REQUIRE(r.status == 0);
  const nlohmann::json one = nlohmann::json::parse(r.out.substr(r.out.rfind('{')));
  CHECK(one["bpd"].get<double>() == final_bpd);  // the same draws: the same number
  CHECK(one["importance_samples"] == 1);
  CHECK(one["dequantization"] == "variational");
  CHECK(one["bound"].get<std::string>().find("one draw") != std::string::npos);
  CHECK(one["bpd_standard_error"].get<double>() > 0);
  // inspect's rows (the model's terms on q's draw, then -log q) add up to the same bound.
  r = fz::test::run_flowzoo("inspect --checkpoint " + out + "/checkpoint.safetensors --limit 16 --json", temp_dir("io"));
  REQUIRE(r.status == 0);
  const nlohmann::json terms = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  CHECK(terms["bpd"].get<double>() == final_bpd);
  CHECK(terms["sum_of_terms_bpd"].get<double>() == Approx(final_bpd).epsilon(1e-7));
  CHECK(terms["terms"].back()["kind"] == "dequantizer");
  r = fz::test::run_flowzoo(eval + " --importance-samples 4", temp_dir("io"));
  REQUIRE(r.status == 0);
  const nlohmann::json four = nlohmann::json::parse(r.out.substr(r.out.rfind('{')));
  CHECK(four["importance_samples"] == 4);
  CHECK(four["bound"].get<std::string>().find("importance-weighted bound with S = 4") != std::string::npos);
  CHECK(std::isfinite(four["bpd"].get<double>()));
  CHECK(std::abs(four["bpd"].get<double>() - one["bpd"].get<double>()) < 0.5);
  // The human-readable form names the bound too.
  r = fz::test::run_flowzoo("eval --checkpoint " + out + "/checkpoint.safetensors --limit 16 --importance-samples 2",
                            temp_dir("io"));
  REQUIRE(r.status == 0);
  CHECK(r.out.find("standard error") != std::string::npos);
  CHECK(r.out.find("importance-weighted bound with S = 2") != std::string::npos);
  // --log-probs exports the inputs the variational eval saw.
  r = fz::test::run_flowzoo(eval + " --log-probs " + out + "/lp.safetensors", temp_dir("io"));
  REQUIRE(r.status == 0);
  const NamedTensors lp = load_safetensors(out + "/lp.safetensors");
  REQUIRE(lp.f32.size() == 2);
  fs::remove_all(out);
}

TEST_CASE("cli: uniform runs take --importance-samples; bad dequantization flags exit 2", "[cli][dequantization]") {
  const std::string out = temp_dir("uniform");
  auto r = fz::test::run_flowzoo(kTinyFlags + " --quiet --out " + out, temp_dir("io"));
  REQUIRE(r.status == 0);
  CHECK(fz::test::read_json(out + "/config.json")["dequantization"]["kind"] == "uniform");
  const std::string ckpt = out + "/checkpoint.safetensors";
  r = fz::test::run_flowzoo("eval --checkpoint " + ckpt + " --limit 16 --importance-samples 3 --json", temp_dir("io"));
  REQUIRE(r.status == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out.substr(r.out.rfind('{')));
  CHECK(j["dequantization"] == "uniform");
  CHECK(j["bound"].get<std::string>().find("uniform dequantization") != std::string::npos);
  for (const char* bad : {"0", "5000", "-1", "2.5", "nan"}) {
    INFO("--importance-samples " << bad);
    r = fz::test::run_flowzoo("eval --checkpoint " + ckpt + " --importance-samples " + bad, temp_dir("io"));
    CHECK(r.status == 2);
    CHECK(r.err.find("--importance-samples") != std::string::npos);
  }
  // A changed --dequantization on --resume is refused, naming both.
  r = fz::test::run_flowzoo("train --out " + out + " --resume --steps 3 --dequantization variational", temp_dir("io"));
  CHECK(r.status == 2);
  CHECK(r.err.find("--dequantization saved 'uniform', given 'variational'") != std::string::npos);
  const std::string bad_out = temp_dir("bad");
  fz::test::check_flag_refused(
      fz::test::run_flowzoo("train --dataset toy --steps 2 --quiet --dequantization variational --out " + bad_out,
                            temp_dir("io")),
      "needs an image dataset", bad_out);
  fz::test::check_flag_refused(fz::test::run_flowzoo(kTinyFlags + " --dequantization learned --out " + bad_out, temp_dir("io")),
                               "--dequantization", bad_out);
  fz::test::check_flag_refused(fz::test::run_flowzoo(kTinyFlags + " --dequant-hidden 0 --out " + bad_out, temp_dir("io")),
                               "--dequant-hidden", bad_out);
  // A 2-D model's NLL is exact: nothing to importance-weight.
  const std::string toy = temp_dir("toy");
  REQUIRE(run_train(fz::test::toy_request(toy, 2, 0)) == kExitOk);
  r = fz::test::run_flowzoo("eval --checkpoint " + toy + "/checkpoint.safetensors --importance-samples 2", temp_dir("io"));
  CHECK(r.status == 2);
  CHECK(r.err.find("--importance-samples is for image models") != std::string::npos);
  fs::remove_all(out);
  fs::remove_all(bad_out);
  fs::remove_all(toy);
}
