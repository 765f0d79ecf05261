// tests/examples/test_tutorial.cpp — keeps docs/tutorial.md true: runs each of its programs
// (build/examples/tutorial_<n>_<topic>) and checks the numbers the text draws its conclusions
// from — formula against finite differences, the density's integral, log-dets adding up, the
// triangular pattern, NICE's zero log-dets, the NLL falling, the multi-scale bookkeeping. The
// checks parse the printed numbers and compare them with each other, so a change that breaks
// the story (a wrong log-det, a coupling that is no longer triangular) fails here.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

// Runs build/examples/<name> with `args`, returns its stdout; REQUIREs exit status 0.
std::string run_example(const std::string& name, const std::string& args = "") {
  const std::string bin = std::string(FZ_EXAMPLES_DIR) + "/" + name;
  REQUIRE(fs::exists(bin));
  FILE* pipe = ::popen((bin + " " + args + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe)) out += buf.data();
  const int status = ::pclose(pipe);
  INFO(name << " printed:\n" << out);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every number in `s` (after `from`), in order; "(x, y)" and "a -> b" punctuation is skipped.
std::vector<double> numbers_in(const std::string& s, std::size_t from = 0) {
  std::vector<double> out;
  const char* p = s.c_str() + from;
  while (*p) {
    char* end = nullptr;
    const bool starts = std::isdigit(static_cast<unsigned char>(*p)) ||
                        ((*p == '-' || *p == '+' || *p == '.') && std::isdigit(static_cast<unsigned char>(p[1])));
    if (starts) {
      const double v = std::strtod(p, &end);
      if (end != p) {
        out.push_back(v);
        p = end;
        continue;
      }
    }
    ++p;
  }
  return out;
}

// The last `count` numbers of a line (a table row that starts with a name).
std::vector<double> last_numbers(const std::string& line, std::size_t count) {
  const std::vector<double> all = numbers_in(line);
  if (all.size() < count) return all;
  return std::vector<double>(all.end() - count, all.end());
}

// The numbers after `label` on the first line that contains it; FAILs if no line does.
std::vector<double> numbers_after(const std::string& out, const std::string& label) {
  for (const std::string& line : lines_of(out)) {
    const std::size_t at = line.find(label);
    if (at != std::string::npos) return numbers_in(line, at + label.size());
  }
  FAIL("no line with '" << label << "' in:\n" << out);
  return {};
}

// The `count` lines after the first line containing `label`.
std::vector<std::string> lines_after(const std::string& out, const std::string& label, std::size_t count) {
  const std::vector<std::string> lines = lines_of(out);
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find(label) != std::string::npos) {
      REQUIRE(i + count < lines.size());
      return std::vector<std::string>(lines.begin() + i + 1, lines.begin() + i + 1 + count);
    }
  FAIL("no line with '" << label << "' in:\n" << out);
  return {};
}

bool agree(double a, double b, double rel) { return std::fabs(a - b) <= rel * (1.0 + std::fabs(b)); }

fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("fz_tutorial_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("tutorial 1: log|det J| by formula equals finite differences, and p integrates to 1", "[examples][tutorial]") {
  const fs::path dir = scratch_dir("1");
  const std::string out = run_example("tutorial_1_change_of_variables", dir.string());
  double largest = 0;
  for (const std::string& row : lines_after(out, "finite diff.", 5)) {
    const std::vector<double> v = numbers_in(row);  // x1 x2 formula numeric |diff|
    REQUIRE(v.size() == 5);
    CHECK(agree(v[2], v[3], 1e-6));
    largest = std::max(largest, std::fabs(v[2]));
  }
  CHECK(largest > 0.1);  // a trained map, not the identity
  CHECK(std::fabs(numbers_after(out, "|det df/dx|:")[0] - 1.0) < 0.01);
  CHECK(std::fabs(numbers_after(out, "alone (no det):")[0] - 1.0) > 0.05);  // without the det: no density
  CHECK(fs::file_size(dir / "tutorial_1_density.png") > 0);
  fs::remove_all(dir);
}

TEST_CASE("tutorial 2: a chain's log-det is the sum of its layers' and matches finite differences", "[examples][tutorial]") {
  const std::string out = run_example("tutorial_2_chain_logdets");
  const std::vector<double> sum = numbers_after(out, "sum of the layers");
  const std::vector<double> chain = numbers_after(out, "Chain::forward");
  const std::vector<double> numeric = numbers_after(out, "finite differences");
  const std::vector<double> inverse = numbers_after(out, "Chain::inverse");
  REQUIRE(sum.size() == 3);
  REQUIRE(chain.size() == 3);
  REQUIRE(numeric.size() == 3);
  REQUIRE(inverse.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(agree(sum[i], chain[i], 1e-8));
    CHECK(agree(chain[i], numeric[i], 1e-6));
    CHECK(agree(inverse[i], -chain[i], 1e-8));
    CHECK(std::fabs(chain[i]) > 1e-3);
  }
  CHECK(numbers_after(out, "max |inverse(forward(x)) - x| =")[0] < 1e-9);
}

TEST_CASE("tutorial 3: a coupling's Jacobian is triangular and its log-det is the log-diagonal", "[examples][tutorial]") {
  const std::string out = run_example("tutorial_3_triangular_jacobian");
  CHECK(numbers_after(out, "largest |entry| above the diagonal:")[0] < 1e-8);
  const double diagonal = numbers_after(out, "sum of log|diagonal|:")[0];
  const double layer = numbers_after(out, "the layer's log-det (its formula):")[0];
  CHECK(agree(diagonal, layer, 1e-6));
  CHECK(agree(numbers_after(out, "log|det| by LU of the full matrix:")[0], layer, 1e-6));
  CHECK(std::fabs(layer) > 1e-3);
  // Below the diagonal the network's derivative shows up: the reordered matrix is not diagonal.
  double below = 0;
  const std::vector<std::string> reordered = lines_after(out, "(a | b):", 4);
  for (std::size_t r = 0; r < 4; ++r) {
    const std::vector<double> v = numbers_in(reordered[r]);
    REQUIRE(v.size() == 4);
    for (std::size_t c = 0; c < r; ++c) below = std::max(below, std::fabs(v[c]));
  }
  CHECK(below > 1e-3);
  // Two couplings: the a rows now depend on b, so the (a | b) upper-right block is non-zero.
  const std::vector<std::string> two = lines_after(out, "two couplings in a row", 4);
  const std::vector<double> row0 = numbers_in(two[0]);
  REQUIRE(row0.size() == 4);
  CHECK(std::max(std::fabs(row0[1]), std::fabs(row0[3])) > 1e-3);
  CHECK(agree(numbers_after(out, "log|det| by LU:")[0], numbers_after(out, "sum of the two layers' log-dets:")[0], 1e-6));
}

TEST_CASE("tutorial 4: a coupling passes its conditioning part through and inverts exactly", "[examples][tutorial]") {
  const std::string out = run_example("tutorial_4_coupling_layers");
  CHECK(numbers_after(out, "coupling 0 changed x1 by at most")[0] == 0.0);
  CHECK(numbers_after(out, "coupling 1 changed x2 by at most")[0] == 0.0);
  double moved = 0;
  for (const std::string& row : lines_after(out, "after coupling 1", 4)) {
    const std::vector<double> v = numbers_in(row);  // x1 x2 | y1 y2 | w1 w2
    REQUIRE(v.size() == 6);
    moved = std::max({moved, std::fabs(v[3] - v[1]), std::fabs(v[4] - v[2])});
  }
  CHECK(moved > 1e-3);
  CHECK(numbers_after(out, "max |inverse(forward(x)) - x| =")[0] < 1e-12);
  for (const std::string& row : lines_after(out, "inverse logdet", 4)) {
    const std::vector<double> v = numbers_in(row);  // point forward inverse sum
    REQUIRE(v.size() == 4);
    CHECK(std::fabs(v[1] + v[2]) < 1e-12);
  }
  // Couplings from parts: each transformer's log-dets match finite differences; the additive
  // one's are exactly 0, the affine ones' are not; every one inverts.
  const std::vector<std::string> parts = lines_after(out, "couplings from parts", 6);
  const char* names[] = {"Additive", "Affine", "SigmoidAffine"};
  for (std::size_t t = 0; t < 3; ++t) {
    INFO(names[t]);
    REQUIRE(parts[2 * t].find(names[t]) != std::string::npos);
    const std::vector<double> formula = last_numbers(parts[2 * t], 4);
    const std::vector<double> numeric = numbers_after(parts[2 * t + 1], "FD:");  // 4 values, then the round trip
    REQUIRE(formula.size() == 4);
    REQUIRE(numeric.size() == 5);
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(agree(formula[i], numeric[i], 1e-6));
      if (t == 0) CHECK(formula[i] == 0.0);
      else CHECK(std::fabs(formula[i]) > 1e-3);
    }
    CHECK(numeric[4] < 1e-12);
  }
}

TEST_CASE("tutorial 5: NICE's couplings have log-det 0 and its scaling one constant", "[examples][tutorial]") {
  const std::string out = run_example("tutorial_5_nice");
  const std::vector<std::string> rows = lines_after(out, "point 3", 5);
  for (std::size_t k = 0; k < 4; ++k) {
    const std::vector<double> v = last_numbers(rows[k], 4);  // after the layer's index and type
    REQUIRE(v.size() == 4);
    for (double d : v) CHECK(d == 0.0);
  }
  const std::vector<double> scaling = last_numbers(rows[4], 4);
  REQUIRE(scaling.size() == 4);
  const double sum_s = numbers_after(out, "sum =")[0];
  CHECK(std::fabs(sum_s) > 1e-3);
  for (double d : scaling) CHECK(agree(d, sum_s, 1e-8));
  const std::vector<double> numeric = numbers_after(out, "finite-difference Jacobian:");
  REQUIRE(numeric.size() == 4);
  for (double d : numeric) CHECK(std::fabs(d) < 1e-6);
}

TEST_CASE("tutorial 6: RealNVP's log-det is its log-scale and varies with the point; NICE's does not", "[examples][tutorial]") {
  const std::string out = run_example("tutorial_6_realnvp");
  std::vector<double> realnvp, nice;
  for (const std::string& row : lines_after(out, "NICE total", 5)) {
    const std::vector<double> v = numbers_in(row);  // x1 x2 coupling0 log-diag realnvp nice
    REQUIRE(v.size() == 6);
    CHECK(agree(v[2], v[3], 1e-6));
    realnvp.push_back(v[4]);
    nice.push_back(v[5]);
  }
  CHECK(*std::max_element(realnvp.begin(), realnvp.end()) - *std::min_element(realnvp.begin(), realnvp.end()) > 0.1);
  for (double d : nice) CHECK(agree(d, nice[0], 1e-8));
  const std::vector<std::string> jac = lines_after(out, "Jacobian at the first point", 2);
  const std::vector<double> top = numbers_in(jac[0]);
  REQUIRE(top.size() == 2);
  CHECK(std::fabs(top[0] - 1.0) < 1e-6);
  CHECK(std::fabs(top[1]) < 1e-6);
}

TEST_CASE("tutorial 7: maximum likelihood lowers the held-out NLL on two moons", "[examples][tutorial]") {
  const fs::path dir = scratch_dir("7");
  const std::string out = run_example("tutorial_7_maximum_likelihood", "1000 " + dir.string());
  const std::vector<std::string> rows = lines_after(out, "E[-log|det J|]", 6);
  std::vector<double> nll;
  for (const std::string& row : rows) {
    const std::vector<double> v = numbers_in(row);  // step nll base det
    REQUIRE(v.size() == 4);
    CHECK(std::fabs(v[1] - (v[2] + v[3])) < 2e-4);  // the NLL is the two terms' sum
    nll.push_back(v[1]);
  }
  CHECK(nll.back() < nll.front() - 1.0);
  CHECK(nll.back() < 1.0);
  CHECK(fs::file_size(dir / "tutorial_7_training.png") > 0);
  fs::remove_all(dir);
}

TEST_CASE("tutorial 8: multi-scale latents hold D numbers and the terms add up to log p and bits/dim", "[examples][tutorial]") {
  const std::string out = run_example("tutorial_8_multiscale");
  const std::vector<double> dims = numbers_after(out, "numbers per image: data");
  REQUIRE(dims.size() == 2);
  CHECK(dims[0] == 64);
  CHECK(dims[1] == dims[0]);
  CHECK(out.find("Squeeze") != std::string::npos);
  CHECK(out.find("factored out z0 (4, 2, 4, 4)") != std::string::npos);
  CHECK(out.find("factored out z1 (4, 4, 2, 2)") != std::string::npos);
  // Each step's printed log-det: squeezes 0, trained couplings not, and together the total.
  double column = 0;
  std::size_t steps = 0;
  for (const std::string& line : lines_of(out)) {
    if (line.find(" -> (") == std::string::npos) continue;  // a layer row (not a split row)
    const double logdet = numbers_in(line).back();
    if (line.find("Squeeze") != std::string::npos) CHECK(logdet == 0.0);
    if (line.find("Coupling") != std::string::npos) CHECK(std::fabs(logdet) > 1e-3);
    column += logdet;
    ++steps;
  }
  CHECK(steps == 14);  // preprocessing, 5 + 5 layers in the two scales, 3 on top
  CHECK(std::fabs(column - numbers_after(out, "sum of every log|det J|")[0]) < 1e-4);
  CHECK(agree(numbers_after(out, "= by hand")[0], numbers_after(out, "FlowModel::log_prob")[0], 1e-6));
  const std::vector<std::string> bpd = lines_after(out, "bits/dim = ", 2);
  CHECK(agree(numbers_in(bpd[0])[0], numbers_in(bpd[1])[0], 1e-6));
}
