// tests/cli/test_zoo.cpp — `flowzoo zoo`: the gallery's table and picture, and its flag errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "datasets/image_folder.hpp"
#include "tests/cli/cli_helpers.hpp"

namespace fs = std::filesystem;
using fz::test::fresh_temp_path;
using fz::test::lines_of;
using fz::test::run_flowzoo;

TEST_CASE("cli: zoo trains each chosen family on each chosen density and writes zoo.csv and zoo.png",
          "[cli][zoo]") {
  const std::string out = fresh_temp_path("zoo", "gallery");
  const auto r = run_flowzoo("zoo --out " + out + " --steps 30 --densities moons,8gaussians --families nice,realnvp --threads 1",
                             out + "-run");
  REQUIRE(r.status == 0);
  CHECK(r.out.find("zoo [4/4]") != std::string::npos);
  const auto rows = lines_of(out + "/zoo.csv");
  REQUIRE(rows.size() == 5);
  CHECK(rows[0] == "family,density,test_nll,seconds,error");
  CHECK(rows[1].rfind("NICE additive,moons,", 0) == 0);
  CHECK(rows[4].rfind("RealNVP affine,8gaussians,", 0) == 0);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    // test_nll is a finite number below the untrained model's (a standard Normal on data
    // spread over several units gives NLL well above 2), and the error column is empty.
    const std::string rest = rows[i].substr(rows[i].find(',', rows[i].find(',') + 1) + 1);
    const double nll = std::stod(rest);
    CHECK(std::isfinite(nll));
    CHECK(nll < 10);
    CHECK(rows[i].back() == ',');
  }
  // The picture: a data row plus two family rows, two columns, each cell 112 pixels.
  const fz::TensorU8 png = fz::read_image(out + "/zoo.png", 3);
  CHECK(png.shape()[1] > 3 * 112);
  CHECK(png.shape()[2] > 2 * 112);
  // Text: the footer under the grid (two lines saying what the colours mean) and the title.
  const std::size_t h = png.shape()[1], w = png.shape()[2];
  auto inked_rows = [&](std::size_t y0, std::size_t y1) {
    std::size_t n = 0;
    for (std::size_t y = y0; y < y1; ++y)
      for (std::size_t x = 0; x < w; ++x) n += png[y * w + x] < 200;
    return n;
  };
  CHECK(inked_rows(h - 34, h) > 200);
  CHECK(inked_rows(0, 26) > 200);
  fs::remove_all(out);
}

TEST_CASE("cli: zoo has the NSF and MAF families after the first three; 'maf' picks both MAF rows",
          "[cli][zoo]") {
  const std::string out = fresh_temp_path("zoo", "new_families");
  const auto r = run_flowzoo("zoo --out " + out + " --steps 20 --densities moons --families nsf,maf --threads 1",
                             out + "-run");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto rows = lines_of(out + "/zoo.csv");
  REQUIRE(rows.size() == 4);
  CHECK(rows[1].rfind("NSF spline coupling,moons,", 0) == 0);
  CHECK(rows[2].rfind("MAF affine,moons,", 0) == 0);
  CHECK(rows[3].rfind("MAF spline,moons,", 0) == 0);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const std::string rest = rows[i].substr(rows[i].find(',', rows[i].find(',') + 1) + 1);
    const double nll = std::stod(rest);
    CHECK(std::isfinite(nll));
    CHECK(nll < 10);
    CHECK(rows[i].back() == ',');
  }
  fs::remove_all(out);
}

TEST_CASE("cli: zoo refuses unknown densities and families with exit 2, naming the known ones", "[cli][zoo]") {
  const std::string out = fresh_temp_path("zoo", "bad");
  auto r = run_flowzoo("zoo --out " + out + " --densities moons,banana", out + "-run");
  CHECK(r.status == 2);
  CHECK(r.err.find("banana") != std::string::npos);
  CHECK(r.err.find("checkerboard") != std::string::npos);
  r = run_flowzoo("zoo --out " + out + " --families nice,flowpp", out + "-run");
  CHECK(r.status == 2);
  CHECK(r.err.find("flowpp") != std::string::npos);
  CHECK(r.err.find("RealNVP affine") != std::string::npos);
  r = run_flowzoo("zoo --out " + out + " --steps 0", out + "-run");
  CHECK(r.status == 2);
  fs::remove_all(out);
}

TEST_CASE("cli: the default zoo leaves out the slow resflow and ffjord; --families all has them", "[cli][zoo]") {
  for (const std::string families : {"", " --families all"}) {
    INFO("families:" << families);
    const std::string out = fresh_temp_path("zoo", families.empty() ? "default" : "all");
    const auto r = run_flowzoo("zoo --out " + out + " --steps 1 --densities moons --threads 1" + families, out + "-run");
    INFO(r.err);
    REQUIRE(r.status == 0);
    const auto rows = lines_of(out + "/zoo.csv");
    bool resflow_row = false, ffjord_row = false;
    for (const std::string& row : rows) {
      resflow_row = resflow_row || row.rfind("Residual flow,moons,", 0) == 0;
      ffjord_row = ffjord_row || row.rfind("FFJORD (CNF),moons,", 0) == 0;
    }
    CHECK(rows.size() == (families.empty() ? 7u : 9u));  // header + 6 or 8 families
    CHECK(resflow_row == !families.empty());
    CHECK(ffjord_row == !families.empty());
    fs::remove_all(out);
  }
}
