// tests/cli/test_study_flow.cpp — `flowzoo inspect` and `flowzoo latents` (and `sample
// --temperatures`) on a tiny Glow trained for a few steps on Fashion-MNIST: inspect's total is
// eval's bits/dim on the same images (and eval's NLL for a 2-D model), the breakdown adds up,
// reconstructions are within 1e-4, every picture has the size its layout implies and the
// interpolation rows start and end at their inputs; bad flags exit non-zero with one line.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <stb_image.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli_helpers.hpp"

using namespace fz;
using namespace fz::cli;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return fz::test::fresh_temp_path("study", name); }

// Runs the real binary; stdout is returned, stderr kept apart.
using Output = fz::test::BinaryRun;
Output run_binary(const std::string& args) { return fz::test::run_flowzoo(args, temp_dir("io")); }

using fz::test::count_lines;

nlohmann::json last_line_json(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return nlohmann::json::parse(t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1));
}

// A grey PNG read back: width, height and pixels (first channel).
struct Png {
  int w = 0, h = 0;
  std::vector<unsigned char> px;
  int at(int x, int y) const { return px[static_cast<std::size_t>(y) * w + x]; }
};

Png read_png(const std::string& path) {
  Png p;
  int n = 0;
  unsigned char* data = stbi_load(path.c_str(), &p.w, &p.h, &n, 1);
  REQUIRE(data != nullptr);
  p.px.assign(data, data + static_cast<std::size_t>(p.w) * p.h);
  stbi_image_free(data);
  return p;
}

// Where a labelled picture's tiles are (latents.json "tiles"): tile (row r, column c) starts at
// (left + c (width + gap), top + r (height + gap)).
struct Tiles {
  int left = 0, top = 0, w = 28, h = 28, gap = 0;
  int x(int c) const { return left + c * (w + gap); }
  int y(int r) const { return top + r * (h + gap); }
};

Tiles tiles_of(const nlohmann::json& j) {
  return {j["left"].get<int>(), j["top"].get<int>(), j["width"].get<int>(), j["height"].get<int>(), j["gap"].get<int>()};
}

// Largest pixel difference between tiles (row r1, col c1) and (row r2, col c2) of 28x28 images.
int tile_diff(const Png& p, const Tiles& t, int r1, int c1, int r2, int c2) {
  int worst = 0;
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x)
      worst = std::max(worst, std::abs(p.at(t.x(c1) + x, t.y(r1) + y) - p.at(t.x(c2) + x, t.y(r2) + y)));
  return worst;
}

// One tiny Glow (L = 2, K = 2) trained 3 steps with Polyak averaging, shared by the tests.
const std::string& glow_checkpoint() {
  static const std::string ckpt = [] {
    const std::string out = temp_dir("glow");
    TrainRequest r = fz::test::tiny_glow_request(out, 3, 2, 2, 8);
    r.config.batch = 16;
    r.config.seed = 4;
    r.config.train.polyak_decay = 0.5;
    r.config.final_eval_limit = 20;
    REQUIRE(run_train(r) == kExitOk);
    return out + "/checkpoint.safetensors";
  }();
  // Removes the run directory when the test binary exits.
  static const struct Cleanup {
    ~Cleanup() { fs::remove_all(fs::path(ckpt).parent_path()); }
  } cleanup;
  return ckpt;
}

}  // namespace

TEST_CASE("study: inspect's total is eval's bits/dim on the same images, and its rows add up", "[cli][study]") {
  const std::string& ckpt = glow_checkpoint();
  // 300 images: a full batch of 256 and a partial one, as eval batches them.
  const Output eval = run_binary("eval --checkpoint " + ckpt + " --limit 300 --json");
  REQUIRE(eval.status == 0);
  const Output inspect = run_binary("inspect --checkpoint " + ckpt + " --limit 300 --json");
  REQUIRE(inspect.status == 0);
  const nlohmann::json e = last_line_json(eval.out), i = last_line_json(inspect.out);
  CHECK(i["count"] == 300);
  CHECK(i["bpd"].get<double>() == e["bpd"].get<double>());  // the same float log p, summed the same way
  CHECK(std::abs(i["sum_of_terms_bpd"].get<double>() - i["bpd"].get<double>()) <= 1e-5);
  CHECK(i["constant_bpd"] == 8.0);
  // centering, 2 x (squeeze + 2 steps x 3 layers), split0, top
  REQUIRE(i["terms"].size() == 1 + 2 * 7 + 2);
  double sum = i["constant_bpd"].get<double>(), largest = 0;
  for (const auto& t : i["terms"]) {
    sum += t["bpd"].get<double>();
    CHECK(t["bpd"].get<double>() == Approx(-t["mean_nats"].get<double>() / (784 * std::log(2.0))).epsilon(1e-12));
    if (t["kind"] == "bijector") largest = std::max(largest, std::abs(t["mean_nats"].get<double>()));
  }
  CHECK(largest > 1.0);  // ActNorm, initialised from data, moves the likelihood
  CHECK(sum == Approx(i["sum_of_terms_bpd"].get<double>()).epsilon(1e-12));
  CHECK(i["terms"][8]["name"] == "split0");
  CHECK(i["terms"][8]["kind"] == "split prior");
  CHECK(i["terms"].back()["name"] == "top");

  // A row per Glow step gives the same total; the table prints it.
  const Output steps = run_binary("inspect --checkpoint " + ckpt + " --limit 300 --depth 1 --json");
  REQUIRE(steps.status == 0);
  const nlohmann::json s = last_line_json(steps.out);
  CHECK(s["terms"].size() == 1 + 2 * 3 + 2);
  CHECK(s["bpd"].get<double>() == e["bpd"].get<double>());
  const Output table = run_binary("inspect --checkpoint " + ckpt + " --limit 40");
  REQUIRE(table.status == 0);
  CHECK(table.out.find("scale1.2.2") != std::string::npos);
  CHECK(table.out.find("total = mean over images (as flowzoo eval)") != std::string::npos);
  // The printed total is the printed eval number.
  char expected[32];
  std::snprintf(expected, sizeof expected, "%.5f",
                last_line_json(run_binary("eval --checkpoint " + ckpt + " --limit 40 --json").out)["bpd"].get<double>());
  const std::size_t total_line = table.out.find("total =");
  REQUIRE(total_line != std::string::npos);
  CHECK(table.out.find(expected, total_line) != std::string::npos);
  CHECK(run_binary("eval --checkpoint " + ckpt + " --limit 40").out.find(expected) != std::string::npos);
}

TEST_CASE("study: inspect on a 2-D model gives eval's NLL", "[cli][study]") {
  const std::string out = temp_dir("toy");
  TrainRequest r;
  r.config.model.model = "realnvp";
  r.config.dataset = "toy";
  r.config.model.couplings = 2;
  r.config.model.hidden = 8;
  r.config.batch = 32;
  r.config.steps = 5;
  r.config.threads = 1;
  r.config.eval_every = 0;
  r.config.sample_every = 0;
  r.out_dir = out;
  r.quiet = true;
  REQUIRE(run_train(r) == kExitOk);
  const std::string ckpt = out + "/checkpoint.safetensors";
  const nlohmann::json e = last_line_json(run_binary("eval --checkpoint " + ckpt + " --limit 3000 --json").out);
  const nlohmann::json i = last_line_json(run_binary("inspect --checkpoint " + ckpt + " --limit 3000 --json").out);
  CHECK(i["count"] == 3000);
  CHECK(i["nll_nats"].get<double>() == e["nll_nats"].get<double>());
  CHECK(i["terms"].size() == 2 + 1);  // two couplings and the base
  double lp = 0;
  for (const auto& t : i["terms"]) lp += t["mean_nats"].get<double>();
  CHECK(std::abs(lp + i["nll_nats"].get<double>()) <= 1e-4);
  LatentsRequest l;
  l.checkpoint = ckpt;
  l.out_dir = out + "/latents";
  CHECK_THROWS_WITH(run_latents(l), Catch::Contains("2-D model"));
  fs::remove_all(out);
}

TEST_CASE("study: latents writes per-level channels, reconstructions, interpolations and samples", "[cli][study]") {
  const std::string& ckpt = glow_checkpoint();
  const std::string dir = temp_dir("latents");
  LatentsRequest req;
  req.checkpoint = ckpt;
  req.out_dir = dir;
  req.n = 4;
  req.pairs = 2;
  req.steps = 5;
  req.temperatures = {0.5, 0.8, 1.0};
  req.upscale = 1;
  REQUIRE(run_latents(req) == kExitOk);

  nlohmann::json report;
  std::ifstream(dir + "/latents.json") >> report;
  const double err = report["reconstruction_max_abs_error"].get<double>();
  CHECK(err < 1e-4);
  REQUIRE(report["levels"].size() == 2);
  CHECK(report["levels"][0]["shape"].get<std::vector<int>>() == std::vector<int>{2, 14, 14});
  CHECK(report["levels"][1]["shape"].get<std::vector<int>>() == std::vector<int>{8, 7, 7});

  // Tiles of 28 px (--upscale 1) where latents.json says; pictures hold their grid and labels.
  const Tiles t0 = tiles_of(report["levels"][0]["tiles"]), t1 = tiles_of(report["levels"][1]["tiles"]);
  const Tiles tr = tiles_of(report["reconstructions_tiles"]), ti = tiles_of(report["interpolations_tiles"]);
  for (const Tiles& t : {t0, t1, tr, ti}) {
    CHECK(t.w == 28);
    CHECK(t.h == 28);
    CHECK(t.left > 20);  // room for the row labels ("image 1", "input", "pair 1")
    CHECK(t.top > 20);   // and the title above
  }
  auto fits = [](const Png& p, const Tiles& t, int cols, int rows) {
    return p.w >= t.x(cols) && p.h >= t.y(rows) + 10;  // the grid, and a footer line under it
  };
  const Png level0 = read_png(dir + "/latents_level0.png");  // input + 2 channels (x2 upscaled) per image
  CHECK(fits(level0, t0, 3, 4));
  const Png level1 = read_png(dir + "/latents_level1.png");  // input + 8 channels (x4 upscaled)
  CHECK(fits(level1, t1, 9, 4));
  // The first column of each latent grid is the input image itself.
  const Png recon = read_png(dir + "/reconstructions.png");
  REQUIRE(fits(recon, tr, 4, 2));
  for (int k = 0; k < 4; ++k) {
    INFO("image " << k);
    CHECK(tile_diff(recon, tr, 0, k, 1, k) <= 1);  // decode(encode(x)) looks like x
    int diff = 0;                                  // level grids start with x: compare with recon's row 0
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x)
        diff = std::max(diff, std::abs(level1.at(t1.x(0) + x, t1.y(k) + y) - recon.at(tr.x(k) + x, tr.y(0) + y)));
    CHECK(diff == 0);
  }
  CHECK(tile_diff(recon, tr, 0, 0, 0, 1) > 10);  // and the inputs differ from each other
  // Interpolations: x_a, t = 0 .. 1 in 5 steps, x_b; the ends decode to the inputs.
  const Png interp = read_png(dir + "/interpolations.png");
  REQUIRE(fits(interp, ti, 7, 2));
  for (int p = 0; p < 2; ++p) {
    CHECK(tile_diff(interp, ti, p, 0, p, 1) <= 1);
    CHECK(tile_diff(interp, ti, p, 5, p, 6) <= 1);
    CHECK(tile_diff(interp, ti, p, 2, p, 0) > 0);  // the middle is neither end
    CHECK(tile_diff(interp, ti, p, 2, p, 6) > 0);
  }
  // Labels: dark text pixels left of the first tile column (row labels) and above the tiles.
  auto dark_in = [](const Png& p, int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) n += p.at(x, y) < 128;
    return n;
  };
  CHECK(dark_in(interp, 0, ti.y(0), ti.left - 2, ti.y(1)) > 20);  // "pair 1"
  CHECK(dark_in(interp, 0, 0, interp.w, ti.top - 2) > 100);        // title and column labels
  // Samples: a row of 8 per temperature, each tile 28 px; --upscale 2 doubles the tiles.
  const Png samples = read_png(dir + "/samples_temperatures.png");
  CHECK(samples.h > 3 * 28);
  req.upscale = 2;
  const std::string dir2 = temp_dir("latents_x2");
  req.out_dir = dir2;
  REQUIRE(run_latents(req) == kExitOk);
  std::ifstream(dir2 + "/latents.json") >> report;
  CHECK(tiles_of(report["reconstructions_tiles"]).w == 56);
  CHECK(read_png(dir2 + "/samples_temperatures.png").h - samples.h == 3 * 28);  // three rows of twice the height
  CHECK(read_png(dir2 + "/reconstructions.png").h - recon.h == 2 * 28);
  fs::remove_all(dir2);
  fs::remove_all(dir);
}

TEST_CASE("study: sample --temperatures writes one grid with a row per temperature", "[cli][study]") {
  const std::string& ckpt = glow_checkpoint();
  const std::string png = temp_dir("temps.png");
  const Output r = run_binary("sample --checkpoint " + ckpt + " --n 5 --temperatures 0.5,0.7,0.9,1.0 --upscale 1 --out " + png);
  REQUIRE(r.status == 0);
  const Png p = read_png(png);
  const Output r2 = run_binary("sample --checkpoint " + ckpt + " --n 5 --temperatures 0.5,0.7,0.9,1.0 --upscale 3 --out " + png);
  REQUIRE(r2.status == 0);
  const Png p3 = read_png(png);
  // Four rows of five tiles: three times the tiles, the same labels around them.
  CHECK(p.h >= 4 * 28);
  CHECK(p3.h - p.h == 4 * 2 * 28);
  CHECK(p3.w >= 5 * 3 * 28);
  // The row labels ("T = 0.5", ...) left of the tiles: dark pixels in the left margin of each row.
  int dark = 0;
  for (int y = 0; y < p3.h; ++y)
    for (int x = 0; x < 40; ++x) dark += p3.at(x, y) < 128;
  CHECK(dark > 4 * 20);
  fs::remove(png);
}

TEST_CASE("study: bad inspect and latents flags exit non-zero with one line on stderr", "[cli][study]") {
  for (const char* args : {"inspect", "inspect --checkpoint /nonexistent/x.safetensors",
                           "inspect --checkpoint x --split validation", "inspect --checkpoint x --depth -1",
                           "latents --checkpoint x", "latents --checkpoint /nonexistent/x.safetensors --out /tmp/x",
                           "latents --checkpoint x --out /tmp/x --steps 1",
                           "latents --checkpoint x --out /tmp/x --temperatures 0.5,hot"}) {
    INFO(args);
    const Output r = run_binary(args);
    CHECK(r.status != 0);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.rfind("flowzoo: ", 0) == 0);
  }
  CHECK(run_binary("inspect --help").status == 0);
  CHECK(run_binary("latents --help").status == 0);
}

namespace {

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

TrainRequest tiny_glow_run(const std::string& out, std::size_t steps, bool log_layers) {
  TrainRequest r = fz::test::tiny_glow_request(out, steps, 2, 1, 8);
  r.config.batch = 8;
  r.config.seed = 9;
  r.config.eval_every = 2;
  r.config.eval_limit = 40;
  r.config.final_eval_limit = 10;
  r.log_layers = log_layers;
  return r;
}

}  // namespace

TEST_CASE("study: train --log-layers writes layers.csv whose rows add up to the logged test bpd", "[cli][study]") {
  const std::string plain = temp_dir("plain"), logged = temp_dir("logged");
  REQUIRE(run_train(tiny_glow_run(plain, 4, false)) == kExitOk);
  // The logged run is split in two by a resume: rows must be neither lost nor duplicated.
  REQUIRE(run_train(tiny_glow_run(logged, 2, true)) == kExitOk);
  TrainRequest resume = tiny_glow_run(logged, 4, true);
  resume.resume = true;
  REQUIRE(run_train(resume) == kExitOk);
  CHECK_FALSE(fs::exists(plain + "/layers.csv"));

  // The test_bpd column of metrics.csv is unchanged by logging layers.
  const auto m_plain = read_csv(plain + "/metrics.csv"), m_logged = read_csv(logged + "/metrics.csv");
  REQUIRE(m_plain.size() == 5);
  REQUIRE(m_logged.size() == 5);
  for (std::size_t r = 1; r < 5; ++r) CHECK(m_plain[r].size() == m_logged[r].size());
  REQUIRE(m_plain[2].size() == 6);
  CHECK(m_plain[2][5] == m_logged[2][5]);
  CHECK(m_plain[4][5] == m_logged[4][5]);

  const auto layers = read_csv(logged + "/layers.csv");
  REQUIRE(layers.size() == 3);  // header, step 2, step 4
  // step, centering, 2 x (squeeze + 1 step x 3 layers), split0, top, dequantization, test_bpd
  REQUIRE(layers[0].size() == 1 + 1 + 2 * 4 + 2 + 2);
  CHECK(layers[0][0] == "step");
  CHECK(layers[0][1] == "preprocess.0");
  CHECK(layers[0][3] == "scale0.1.0");
  CHECK(layers[0][layers[0].size() - 2] == "dequantization");
  CHECK(layers[0].back() == "test_bpd");
  for (std::size_t r = 1; r <= 2; ++r) {
    INFO("row " << r);
    REQUIRE(layers[r].size() == layers[0].size());
    CHECK(layers[r][0] == std::to_string(2 * r));
    double sum = 0;
    for (std::size_t k = 1; k + 1 < layers[r].size(); ++k) sum += std::stod(layers[r][k]);
    const double total = std::stod(layers[r].back());
    CHECK(std::abs(sum - total) <= 1e-5);
    CHECK(total == Approx(std::stod(m_plain[2 * r][5])).epsilon(1e-5));
  }
  fs::remove_all(plain);
  fs::remove_all(logged);
}
