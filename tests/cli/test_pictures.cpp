// tests/cli/test_pictures.cpp — the pictures a toy run and the inspecting commands write carry
// their text: sizes, ink in the title and axis margins, the curve's smoothing, and the picture
// flags (train --log-y, density --log-density, sample --range / --upscale).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/flag_checks.hpp"
#include "cli/outputs.hpp"
#include "cli_helpers.hpp"
#include "datasets/image_folder.hpp"
#include "tests/picture_ink.hpp"

using namespace fz;
using namespace fz::cli;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return fz::test::fresh_temp_path("pictures", name); }

using fz::test::inked;

bool same_pixels(const TensorU8& a, const TensorU8& b) {
  if (a.shape() != b.shape()) return false;
  for (std::size_t i = 0; i < a.numel(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace

TEST_CASE("pictures: the curve's smoothing window follows the run's length", "[cli][pictures]") {
  CHECK(curve_smoothing_window(20) == 1);  // a short run: its points as they are
  CHECK(curve_smoothing_window(600) == 12);
  CHECK(curve_smoothing_window(2000) == 40);
  CHECK(curve_smoothing_window(10000000) == 200);
  CHECK(smooth_curve({1, 2, 3}, 1) == std::vector<double>{1, 2, 3});
  // Window 3: decay 0.5, bias-corrected, so the start is not pulled towards the first value.
  const std::vector<double> s = smooth_curve({1, 3, 3}, 3);
  CHECK(s[0] == Approx(1));
  CHECK(s[1] == Approx(1.75 / 0.75));
  CHECK(s[2] == Approx((0.5 * 1.75 + 1.5) / 0.875));
  // A step from 2 to 1 halfway through 1000 points (window 20): 60 points later the smoothed
  // curve is within 1% of the new level; the fixed 0.98 EMA it replaces was still 29% above.
  std::vector<double> y(1000, 2.0);
  std::fill(y.begin() + 500, y.end(), 1.0);
  const std::vector<double> smooth = smooth_curve(y, curve_smoothing_window(y.size()));
  CHECK(smooth[560] < 1.01);
  double ema = 2;
  for (int i = 500; i <= 560; ++i) ema = 0.98 * ema + 0.02 * y[i];
  CHECK(ema > 1.25);
}

TEST_CASE("pictures: a toy run's curve, density and samples have titles, axes and numbers", "[cli][pictures]") {
  const std::string dir = temp_dir("toy");
  TrainRequest r = fz::test::toy_request(dir, 20, 3);
  r.config.eval_every = 5;
  r.config.eval_limit = 200;
  r.config.final_eval_limit = 200;
  REQUIRE(run_train(r) == kExitOk);
  const TensorU8 curve = read_image(dir + "/curve.png", 3);
  REQUIRE(curve.shape() == Shape{3, 480, 800});
  CHECK(inked(curve, 200, 0, 600, 32) > 300);   // "realnvp on moons: training curve"
  CHECK(inked(curve, 0, 100, 18, 380) > 50);    // "NLL (nats)", vertical
  CHECK(inked(curve, 80, 445, 800, 462) > 40);  // step numbers under the axis
  CHECK(inked(curve, 300, 462, 500, 480) > 20); // "step"
  const TensorU8 density = read_image(dir + "/density.png", 3);
  REQUIRE(density.shape() == Shape{3, 560, 640});
  CHECK(inked(density, 150, 0, 500, 32) > 300);  // title
  CHECK(inked(density, 600, 100, 640, 460) > 50);  // the colour bar's label, vertical at the right
  const TensorU8 samples = read_image(dir + "/samples_final_T1.png", 3);
  REQUIRE(samples.shape() == Shape{3, 600, 600});
  CHECK(inked(samples, 100, 0, 500, 32) > 300);  // "... samples at T = 1, step 20"

  // train --log-y: the same run's curve on a log axis is another picture of the same size.
  const std::string dir_log = temp_dir("toy_log");
  r.out_dir = dir_log;
  r.log_y = true;
  REQUIRE(run_train(r) == kExitOk);
  const TensorU8 curve_log = read_image(dir_log + "/curve.png", 3);
  CHECK(curve_log.shape() == curve.shape());
  CHECK_FALSE(same_pixels(curve_log, curve));

  // density --log-density colours by log p: another picture; sample --range zooms in.
  DensityRequest d;
  d.checkpoint = dir + "/checkpoint.safetensors";
  d.out = dir + "/d_log.png";
  d.grid = 30;
  d.log_density = true;
  REQUIRE(run_density(d) == kExitOk);
  d.out = dir + "/d.png";
  d.log_density = false;
  REQUIRE(run_density(d) == kExitOk);
  const TensorU8 dl = read_image(dir + "/d_log.png", 3), dp = read_image(dir + "/d.png", 3);
  CHECK(dl.shape() == Shape{3, 560, 640});
  CHECK_FALSE(same_pixels(dl, dp));
  SampleRequest s;
  s.checkpoint = d.checkpoint;
  s.out = dir + "/s.png";
  s.n = 300;
  s.lo = -1;
  s.hi = 1;
  REQUIRE(run_sample(s) == kExitOk);
  CHECK(read_image(s.out, 3).shape() == Shape{3, 600, 600});
  s.hi = -2;
  CHECK_THROWS_AS(run_sample(s), FlagError);  // exit 2 through main
  s.hi = 1;
  s.upscale = 0;
  CHECK_THROWS_AS(run_sample(s), FlagError);
  fs::remove_all(dir);
  fs::remove_all(dir_log);
}

TEST_CASE("pictures: bad picture flags exit 2 with one line naming the flag", "[cli][pictures]") {
  const std::string scratch = temp_dir("flags");
  for (const std::string& args :
       {std::string("sample --checkpoint x --out /tmp/x.png --upscale 0"),
        std::string("sample --checkpoint x --out /tmp/x.png --upscale 100"),
        std::string("sample --checkpoint x --out /tmp/x.png --range 2,1"),
        std::string("sample --checkpoint x --out /tmp/x.png --range inf,1"),
        std::string("latents --checkpoint x --out /tmp/x --upscale -1"),
        std::string("density --checkpoint x --out /tmp/x.png --log-density=maybe")}) {
    INFO(args);
    const fz::test::BinaryRun run = fz::test::run_flowzoo(args, scratch);
    CHECK(run.status == 2);
    CHECK(fz::test::count_lines(run.err) == 1);
  }
  CHECK(fz::test::run_flowzoo("sample --help", scratch).out.find("--upscale") != std::string::npos);
  CHECK(fz::test::run_flowzoo("train --help", scratch).out.find("--log-y") != std::string::npos);
  CHECK(fz::test::run_flowzoo("density --help", scratch).out.find("--log-density") != std::string::npos);
}
