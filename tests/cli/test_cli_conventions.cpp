// tests/cli/test_cli_conventions.cpp — the command line's conventions (issues 14 and 16), through
// the real binary: flags shared by several commands are declared once (same help everywhere),
// `train --config` reruns a run and `results.json` keeps its final evaluation, `--threads` on
// every command that computes, `--version`, the learning-rate schedules, a fully quiet
// `--quiet`, periodic evaluations on toy runs, the progress line fitted to the terminal's width,
// and bad values of every flag exiting 2.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <cmath>
#include <map>
#include <set>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/checkpoint.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli_helpers.hpp"
#include "tensor/safetensors.hpp"

using namespace fz;
using namespace fz::cli;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) { return fz::test::fresh_temp_path("conventions", name); }

using Run = fz::test::BinaryRun;
Run run_binary(const std::string& args, const std::string& before = "") {
  return fz::test::run_flowzoo(args, temp_path("io"), before);
}

// `flowzoo <command> --help`, as a map from each option's long name to its whole entry (the
// line naming it and its continuation lines), e.g. "--hidden" -> "  --hidden UINT:... width".
std::map<std::string, std::string> help_entries(const std::string& command) {
  const Run r = run_binary(command + " --help");
  REQUIRE(r.status == 0);
  std::map<std::string, std::string> entries;
  std::istringstream in(r.out);
  std::string line, current;
  const std::regex option_line("^  (-[a-z],)?(--[a-z0-9-]+)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, option_line)) {
      current = m[2];
      entries[current] = line;
    } else if (!current.empty() && line.rfind("    ", 0) == 0) {
      entries[current] += "\n" + line;
    } else {
      current.clear();
    }
  }
  return entries;
}

// The tiny toy run of these tests, as flags.
const std::string kToyFlags =
    " --model realnvp --dataset toy --couplings 2 --hidden 8 --batch 32 --threads 1 --sample-every 0";

}  // namespace

TEST_CASE("conventions: train, tape and profile declare their shared model and data flags once", "[cli][conventions]") {
  const auto train = help_entries("train"), tape = help_entries("tape"), profile = help_entries("profile");
  const std::vector<std::string> shared = {
      "--model", "--dataset", "--data-dir", "--density", "--batch", "--seed", "--threads", "--levels",
      "--steps-per-level", "--hidden", "--blocks", "--couplings", "--additive", "--plain-1x1", "--learn-top",
      "--weight-norm", "--transformer", "--bins", "--tail-bound", "--mixtures"};
  for (const std::string& flag : shared) {
    INFO(flag);
    REQUIRE(train.count(flag) == 1);
    REQUIRE(tape.count(flag) == 1);
    REQUIRE(profile.count(flag) == 1);
    CHECK(train.at(flag) == tape.at(flag));
    CHECK(train.at(flag) == profile.at(flag));
  }
  // The same validation: a density that does not exist is a bad flag on each (it used to be
  // found only when the data was loaded, exit 1).
  for (const std::string command : {"train", "tape", "profile"}) {
    INFO(command);
    const Run r = run_binary(command + " --dataset toy --density moonz --steps 2 --out " + temp_path("never"));
    CHECK(r.status == 2);
    CHECK(fz::test::count_lines(r.err) == 1);
    CHECK(r.err.find("--density") != std::string::npos);
    CHECK(r.err.find("moonz") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(temp_path("never")));
}

namespace {

// A toy run through the binary into `out` (extra flags appended); REQUIREs success.
void train_toy(const std::string& out, const std::string& extra) {
  const Run r = run_binary("train" + kToyFlags + " --out " + out + " " + extra);
  INFO(r.err);
  REQUIRE(r.status == 0);
}

// The tensors of a checkpoint (names and values; the metadata holds wall times).
std::vector<std::pair<std::string, std::vector<float>>> tensors_of(const std::string& checkpoint) {
  const NamedTensors file = load_safetensors(checkpoint);
  std::vector<std::pair<std::string, std::vector<float>>> out;
  for (const auto& [name, t] : file.f32) out.emplace_back(name, t.to_vector());
  return out;
}

// metrics.csv as rows of cells (header included).
std::vector<std::vector<std::string>> metrics_rows(const std::string& run) {
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : fz::test::lines_of(run + "/metrics.csv")) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace

TEST_CASE("conventions: train --config reruns a run from its config.json; flags override it", "[cli][conventions]") {
  const std::string a = temp_path("config_a"), b = temp_path("config_b"), c = temp_path("config_c");
  train_toy(a, "--steps 6 --seed 4 --lr 2e-3 --schedule step --schedule-step-every 2 --schedule-gamma 0.9 --quiet");
  // The same run again, from the file alone: the same configuration, bit-identical weights.
  Run r = run_binary("train --config " + a + "/config.json --out " + b + " --quiet");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(fz::test::read_json(b + "/config.json") == fz::test::read_json(a + "/config.json"));
  CHECK(tensors_of(b + "/checkpoint.safetensors") == tensors_of(a + "/checkpoint.safetensors"));
  // Flags given on the command line override the file; a new length replaces its length.
  r = run_binary("train --config " + a + "/config.json --out " + c + " --steps 3 --lr 5e-4 --quiet");
  INFO(r.err);
  REQUIRE(r.status == 0);
  nlohmann::json expected = fz::test::read_json(a + "/config.json");
  expected["steps"] = 3;
  expected["training"]["lr"] = 5e-4;
  CHECK(fz::test::read_json(c + "/config.json") == expected);
  CHECK(read_checkpoint_info(c + "/checkpoint.safetensors").step == 3);
  // --help says so.
  CHECK(help_entries("train").at("--config").find("override") != std::string::npos);
  for (const std::string& dir : {a, b, c}) fs::remove_all(dir);
  // Every family reruns from its file, transformers included (a file holds the resolved one).
  for (const std::string model : {"nice", "glow --additive", "glow", "nsf", "maf --transformer spline",
                                   "realnvp --transformer mixture --mixtures 3"}) {
    INFO(model);
    const std::string first = temp_path("config_family"), again = temp_path("config_family_again");
    REQUIRE(run_binary("train --model " + model + " --dataset toy --hidden 8 --batch 32 --steps 2 --threads 1 "
                       "--sample-every 0 --quiet --out " + first).status == 0);
    const Run rerun = run_binary("train --config " + first + "/config.json --quiet --out " + again);
    INFO(rerun.err);
    REQUIRE(rerun.status == 0);
    CHECK(fz::test::read_json(again + "/config.json") == fz::test::read_json(first + "/config.json"));
    CHECK(tensors_of(again + "/checkpoint.safetensors") == tensors_of(first + "/checkpoint.safetensors"));
    fs::remove_all(first);
    fs::remove_all(again);
  }
}

TEST_CASE("conventions: a missing, corrupt or unknown-field --config file exits 1 with one line naming it",
          "[cli][conventions]") {
  const std::string a = temp_path("badconfig_run"), dir = temp_path("badconfig");
  train_toy(a, "--steps 2 --quiet");
  fs::create_directories(dir);
  const std::string good = fz::test::slurp(a + "/config.json");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  nlohmann::json typo = nlohmann::json::parse(good);
  typo["model"]["hiden"] = 16;
  nlohmann::json top = nlohmann::json::parse(good);
  top["learning_rate"] = 0.1;
  nlohmann::json wide = nlohmann::json::parse(good);
  wide["model"]["hidden"] = 1000000000;
  nlohmann::json missing_field = nlohmann::json::parse(good);
  missing_field.erase("batch");
  nlohmann::json refused = nlohmann::json::parse(good);
  refused["model"]["transformer"] = "additive";  // the file's model is realnvp on toy data: fine
  refused["model"]["model"] = "nsf";             // nsf takes only the spline
  struct Case {
    std::string file, says;
  };
  const std::vector<Case> cases = {
      {dir + "/none.json", "cannot open"},
      {write("garbage.json", "{not json at all"), "not valid JSON"},
      {write("truncated.json", good.substr(0, good.size() / 2)), "not valid JSON"},
      {write("typo.json", typo.dump()), "unknown field 'model.hiden'"},
      {write("top.json", top.dump()), "unknown field 'learning_rate'"},
      {write("wide.json", wide.dump()), "--hidden must be a whole number"},
      {write("missing.json", missing_field.dump()), "no field 'batch'"},
      {write("array.json", "[1, 2]"), "not a JSON object"},
      {write("refused.json", refused.dump()), "transformer 'additive': nsf's couplings are splines"},
  };
  for (const Case& k : cases) {
    INFO(k.file);
    const Run r = run_binary("train --config " + k.file + " --out " + dir + "/out");
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(fz::test::count_lines(r.err) == 1);
    CHECK(r.err.find("'" + k.file + "'") != std::string::npos);
    CHECK(r.err.find(k.says) != std::string::npos);
    CHECK(r.err.find("json.exception") == std::string::npos);  // nlohmann's own text stays inside
  }
  CHECK_FALSE(fs::exists(dir + "/out/checkpoint.safetensors"));
  // --config and --resume exclude each other: a bad flag.
  const Run both = run_binary("train --config " + a + "/config.json --resume --out " + a);
  CHECK(both.status == 2);
  fs::remove_all(a);
  fs::remove_all(dir);
}

TEST_CASE("conventions: results.json holds the final evaluation, as eval measures it", "[cli][conventions]") {
  const std::string a = temp_path("results");
  train_toy(a, "--steps 5 --quiet");
  const nlohmann::json r = fz::test::read_json(a + "/results.json");
  CHECK(r.at("model") == "realnvp");
  CHECK(r.at("dataset") == "toy");
  CHECK(r.at("density") == "moons");
  CHECK(r.at("steps") == 5);
  CHECK(r.at("count") == 20000);
  CHECK(r.at("parameters").get<std::size_t>() > 0);
  CHECK(r.at("wall_seconds").get<double>() > 0);
  const Run e = run_binary("eval --checkpoint " + a + "/checkpoint.safetensors --json");
  REQUIRE(e.status == 0);
  const nlohmann::json measured = nlohmann::json::parse(e.out.substr(e.out.rfind('{')));
  CHECK(r.at("test_nll_nats").get<double>() == Approx(measured.at("nll_nats").get<double>()).epsilon(1e-9));
  // No temporary left beside it (written atomically, like the other run files).
  for (const auto& entry : fs::directory_iterator(a))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
  // --force moves it aside with the rest of the old run.
  train_toy(a, "--steps 2 --force --quiet");
  CHECK(fz::test::read_json(a + "/results.json").at("steps") == 2);
  fs::remove_all(a);
  for (const auto& entry : fs::directory_iterator(fs::path(a).parent_path()))
    if (entry.path().filename().string().rfind(fs::path(a).filename().string() + ".old-", 0) == 0) {
      CHECK(fz::test::read_json((entry.path() / "results.json").string()).at("steps") == 5);
      fs::remove_all(entry.path());
    }
}

TEST_CASE("conventions: --version prints the project's version", "[cli][conventions]") {
  const Run r = run_binary("--version");
  CHECK(r.status == 0);
  CHECK(r.out == std::string("flowzoo ") + FLOWZOO_VERSION + "\n");
  CHECK(r.err.empty());
}

TEST_CASE("conventions: --threads on every command that computes", "[cli][conventions]") {
  for (const std::string command : {"train", "eval", "sample", "density", "inspect", "latents", "tape", "profile", "zoo",
                                    "fit"}) {
    INFO(command);
    CHECK(help_entries(command).count("--threads") == 1);
  }
  const std::string a = temp_path("threads");
  train_toy(a, "--steps 3 --quiet");
  const std::string ck = " --checkpoint " + a + "/checkpoint.safetensors";
  // The same numbers at any thread count.
  const Run one = run_binary("eval" + ck + " --json --threads 1"), two = run_binary("eval" + ck + " --json --threads 2");
  REQUIRE(one.status == 0);
  REQUIRE(two.status == 0);
  CHECK(one.out == two.out);
  CHECK(run_binary("inspect" + ck + " --threads 2 --limit 100").status == 0);
  CHECK(run_binary("sample" + ck + " --threads 2 --n 8 --out " + a + "/s.png").status == 0);
  CHECK(run_binary("density" + ck + " --threads 2 --grid 8 --out " + a + "/d.png").status == 0);
  fs::remove_all(a);
}

TEST_CASE("conventions: --schedule step and cosine give the learning rates of their formulas", "[cli][conventions]") {
  const std::string s = temp_path("schedule_step"), c = temp_path("schedule_cosine");
  train_toy(s, "--steps 12 --lr 1e-3 --warmup 2 --schedule step --schedule-step-every 4 --schedule-gamma 0.5 --quiet");
  auto rows = metrics_rows(s);
  REQUIRE(rows.size() == 13);
  REQUIRE(rows[0][3] == "lr");
  for (std::size_t step = 1; step <= 12; ++step) {
    INFO(step);
    // Warmup: (step) / 2 of the rate for the first 2 steps; then x 0.5 every 4 steps.
    const double expected = step <= 2 ? 1e-3 * double(step) / 2 : 1e-3 * std::pow(0.5, double((step - 3) / 4));
    CHECK(std::stod(rows[step][3]) == Approx(expected).epsilon(1e-5));
  }
  const nlohmann::json saved = fz::test::read_json(s + "/config.json").at("training").at("schedule");
  CHECK(saved.at("kind") == "step");
  CHECK(saved.at("step_every") == 4);
  CHECK(saved.at("gamma") == 0.5);

  train_toy(c, "--steps 10 --lr 1e-3 --lr-min 1e-4 --schedule cosine --quiet");
  rows = metrics_rows(c);
  REQUIRE(rows.size() == 11);
  const double pi = std::acos(-1.0);
  for (std::size_t step = 1; step <= 10; ++step) {
    INFO(step);
    const double t = double(step - 1);
    CHECK(std::stod(rows[step][3]) == Approx(1e-4 + 0.9e-3 * 0.5 * (1 + std::cos(pi * t / 10))).epsilon(1e-5));
  }
  CHECK(fz::test::read_json(c + "/config.json").at("training").at("schedule").at("steps") == 10);
  // Cosine over a budget of minutes has no known end: a bad flag, before anything is written.
  const Run r = run_binary("train" + kToyFlags + " --minutes 1 --schedule cosine --out " + temp_path("never"));
  CHECK(r.status == 2);
  CHECK(fz::test::count_lines(r.err) == 1);
  CHECK(r.err.find("--schedule cosine") != std::string::npos);
  CHECK_FALSE(fs::exists(temp_path("never") + "/checkpoint.safetensors"));
  fs::remove_all(s);
  fs::remove_all(c);
}

TEST_CASE("conventions: a cosine schedule resumes exactly (N steps = N/2 + a resumed N/2)", "[cli][conventions]") {
  const std::string a = temp_path("cosine_straight"), b = temp_path("cosine_resumed");
  train_toy(a, "--steps 12 --lr 2e-3 --schedule cosine --quiet");
  train_toy(b, "--steps 6 --schedule-steps 12 --lr 2e-3 --schedule cosine --quiet");
  const Run r = run_binary("train --resume --steps 12 --quiet --out " + b);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(tensors_of(a + "/checkpoint.safetensors") == tensors_of(b + "/checkpoint.safetensors"));
  const auto ra = metrics_rows(a), rb = metrics_rows(b);
  REQUIRE(ra.size() == rb.size());
  for (std::size_t i = 1; i < ra.size(); ++i) CHECK(ra[i][3] == rb[i][3]);  // the lr column
  // A resumed run longer than the schedule stays at --lr-min past its end; a changed schedule
  // flag is applied with a warning.
  const Run longer = run_binary("train --resume --steps 14 --lr-min 1e-5 --out " + b);
  INFO(longer.err);
  REQUIRE(longer.status == 0);
  CHECK(longer.err.find("--lr-min 1e-05 replaces the saved 0") != std::string::npos);
  const auto rl = metrics_rows(b);
  REQUIRE(rl.size() == 15);
  CHECK(std::stod(rl[13][3]) == Approx(1e-5));
  CHECK(std::stod(rl[14][3]) == Approx(1e-5));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("conventions: --quiet prints nothing but errors", "[cli][conventions]") {
  const std::string a = temp_path("quiet");
  Run r = run_binary("train" + kToyFlags + " --steps 30 --eval-every 10 --quiet --out " + a);
  CHECK(r.status == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  r = run_binary("train" + kToyFlags + " --steps 3 --force --quiet --out " + a);  // moves the old run aside
  CHECK(r.status == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  r = run_binary("train --resume --steps 6 --lr 5e-4 --quiet --out " + a);  // applies a changed flag
  CHECK(r.status == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  // Without --quiet the same resume warns.
  r = run_binary("train --resume --steps 8 --lr 4e-4 --out " + a);
  CHECK(r.err.find("--lr 0.0004 replaces the saved 0.0005") != std::string::npos);
  // The gallery too.
  r = run_binary("zoo --out " + a + "-zoo --steps 2 --densities moons --families realnvp --threads 1 --quiet");
  CHECK(r.status == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK(fs::exists(a + "-zoo/zoo.csv"));
  fs::remove_all(a + "-zoo");
  // An error still reaches stderr.
  r = run_binary("train" + kToyFlags + " --steps 3 --quiet --out " + a);
  CHECK(r.status == 2);
  CHECK(fz::test::count_lines(r.err) == 1);
  fs::remove_all(a);
  for (const auto& entry : fs::directory_iterator(fs::path(a).parent_path()))
    if (entry.path().filename().string().rfind(fs::path(a).filename().string() + ".old-", 0) == 0)
      fs::remove_all(entry.path());
}

TEST_CASE("conventions: toy runs evaluate periodically, filling metrics.csv's test column", "[cli][conventions]") {
  const std::string a = temp_path("toy_eval"), d = temp_path("toy_eval_default");
  train_toy(a, "--steps 20 --eval-every 10 --quiet");
  const auto rows = metrics_rows(a);
  REQUIRE(rows.size() == 21);
  REQUIRE(rows[0][5] == "test_nll");
  for (std::size_t step = 1; step <= 20; ++step) {
    INFO(step);
    if (step % 10 == 0) {
      REQUIRE(!rows[step][5].empty());
      CHECK(std::isfinite(std::stod(rows[step][5])));
    } else {
      CHECK(rows[step][5].empty());
    }
  }
  // Without the flag a toy run evaluates every 500 steps, as an image run.
  train_toy(d, "--steps 1 --quiet");
  CHECK(fz::test::read_json(d + "/config.json").at("eval_every") == 500);
  fs::remove_all(a);
  fs::remove_all(d);
}

TEST_CASE("conventions: the progress line fits the width, dropping fields; 2-D data counts points/s",
          "[cli][conventions]") {
  ProgressLine line;
  line.step = "step 120/2000";
  line.loss = "nll 1.2345";
  line.rate = "20413 points/s";
  line.elapsed = "elapsed 0m05s";
  line.eta = "ETA 1m20s";
  line.fraction = 0.5;
  const std::string wide = fit_progress_line(line, 0);
  CHECK(wide == "[############............] step 120/2000  nll 1.2345  20413 points/s  elapsed 0m05s  ETA 1m20s");
  CHECK(fit_progress_line(line, 200) == wide);
  for (std::size_t width : {100u, 80u, 60u, 45u, 30u, 25u, 12u}) {
    INFO(width);
    const std::string fitted = fit_progress_line(line, width);
    CHECK(fitted.size() <= width);
    // The step count and the loss always stay (cut only when even they do not fit).
    CHECK(fitted.find(width >= 25 ? "step 120/2000  nll 1.2345" : "step 120/") != std::string::npos);
  }
  // What goes first: the bar narrows, then goes; then elapsed, then the rate, then the ETA.
  CHECK(fit_progress_line(line, 80) == "[#####.....] step 120/2000  nll 1.2345  20413 points/s  elapsed 0m05s  ETA 1m20s");
  CHECK(fit_progress_line(line, 60) == "step 120/2000  nll 1.2345  20413 points/s  ETA 1m20s");
  CHECK(fit_progress_line(line, 45) == "step 120/2000  nll 1.2345  ETA 1m20s");
  CHECK(fit_progress_line(line, 30) == "step 120/2000  nll 1.2345");
  CHECK(fit_progress_line(line, 12) == "step 120/200");

  // Through the binary, stdout a file: $COLUMNS sets the width; a toy run counts points.
  const std::string a = temp_path("progress_width");
  for (const std::string columns : {"", "48"}) {
    INFO(columns);
    const Run r = run_binary("train" + kToyFlags + " --steps 20 --force --out " + a,
                             columns.empty() ? "env -u COLUMNS" : "COLUMNS=" + columns);
    REQUIRE(r.status == 0);
    const std::size_t at = r.out.find("step 20/20");
    REQUIRE(at != std::string::npos);
    const std::string progress = r.out.substr(at, r.out.find('\n', at) - at);
    INFO(progress);
    CHECK(r.out.find("img/s") == std::string::npos);
    if (columns.empty()) CHECK(progress.find("points/s") != std::string::npos);
    else CHECK(progress.size() <= 48);
  }
  fs::remove_all(a);
  for (const auto& entry : fs::directory_iterator(fs::path(a).parent_path()))
    if (entry.path().filename().string().rfind(fs::path(a).filename().string() + ".old-", 0) == 0)
      fs::remove_all(entry.path());
}

TEST_CASE("conventions: a bad value of any flag of any command exits 2 with one line naming the flag",
          "[cli][conventions]") {
  // Every option taking a value, read from each command's --help, so a flag added later is
  // swept too. Paths are files (a bad one is bad input, exit 1) and are left out.
  const std::set<std::string> paths = {"--checkpoint", "--out", "--data-dir", "--csv", "--dot", "--config", "--log-probs"};
  const std::string ck = " --checkpoint /nonexistent/c.safetensors";
  const std::map<std::string, std::string> required = {
      {"train", ""},           {"eval", ck},  {"sample", ck + " --out /nonexistent/s.png"},
      {"density", ck + " --out /nonexistent/d.png"}, {"inspect", ck},
      {"latents", ck + " --out /nonexistent/l"}, {"tape", ""}, {"profile", ""},
      {"zoo", " --out " + temp_path("zoo_never")}, {"fit", " --out " + temp_path("fit_never")}};
  std::size_t swept = 0;
  for (const auto& [command, needed] : required) {
    for (const auto& [flag, entry] : help_entries(command)) {
      const std::string first_line = entry.substr(0, entry.find('\n'));
      const bool takes_value = std::regex_search(first_line, std::regex("^  " + flag + " (UINT|INT|FLOAT|TEXT)"));
      if (!takes_value || paths.count(flag)) continue;
      for (const std::string value : {"nan", "-1e30", "1,2,x"}) {
        INFO(command << " " << flag << " " << value);
        const Run r = run_binary(command + needed + " " + flag + " " + value);
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(fz::test::count_lines(r.err) == 1);
        CHECK(r.err.find(flag) != std::string::npos);
      }
      ++swept;
    }
  }
  CHECK(swept >= 90);  // train alone has more than 40
  CHECK_FALSE(fs::exists(temp_path("zoo_never") + "/zoo.csv"));
  CHECK_FALSE(fs::exists(temp_path("fit_never") + "/fit.json"));

  // Values found wrong only once the checkpoint is read are flags too: several temperatures for
  // a 2-D model (one scatter plot) exit 2, not 1.
  const std::string a = temp_path("flag_sweep_run");
  train_toy(a, "--steps 2 --quiet");
  const Run r = run_binary("sample --checkpoint " + a + "/checkpoint.safetensors --temperatures 0.5,1 --out " + a +
                           "/s.png");
  CHECK(r.status == 2);
  CHECK(fz::test::count_lines(r.err) == 1);
  CHECK(r.err.find("--temperature") != std::string::npos);
  fs::remove_all(a);
}
