// tests/datasets/test_labelled_grid.cpp — the cairo table of pictures: cells land where the
// layout puts them with their colours intact, labels are drawn, bad tables are refused.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include <unistd.h>

#include "datasets/image_folder.hpp"
#include "datasets/labelled_grid.hpp"

using namespace fz;

namespace {

TensorU8 solid(std::size_t h, std::size_t w, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  TensorU8 t({3, h, w});
  for (std::size_t i = 0; i < h * w; ++i) {
    t[i] = r;
    t[h * w + i] = g;
    t[2 * h * w + i] = b;
  }
  return t;
}

// Number of pixels of `img` (3, H, W) exactly equal to (r, g, b).
std::size_t count_color(const TensorU8& img, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  const std::size_t n = img.shape()[1] * img.shape()[2];
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += img[i] == r && img[n + i] == g && img[2 * n + i] == b;
  return count;
}

}  // namespace

TEST_CASE("labelled grid: every cell is painted whole, in its colour, and the labels add dark text",
          "[datasets][labelled_grid]") {
  LabelledGrid g;
  g.title = "zoo";
  g.row_labels = {"data", "RealNVP affine"};
  g.column_labels = {"moons", "circles", "pinwheel"};
  g.cells = {{solid(20, 30, 255, 0, 0), solid(20, 30, 0, 255, 0), solid(20, 30, 0, 0, 255)},
             {solid(20, 30, 10, 20, 30), TensorU8(), solid(20, 30, 200, 100, 50)}};
  const std::string path = "/tmp/fz_test_grid_" + std::to_string(::getpid()) + ".png";
  write_labelled_grid_png(path, g);
  const TensorU8 img = read_image(path, 3);
  std::remove(path.c_str());
  // Wider than the cells alone (row labels on the left), taller (title and column labels).
  CHECK(img.shape()[2] > 3 * 30);
  CHECK(img.shape()[1] > 2 * 20);
  CHECK(count_color(img, 255, 0, 0) == 600);
  CHECK(count_color(img, 0, 255, 0) == 600);
  CHECK(count_color(img, 0, 0, 255) == 600);
  CHECK(count_color(img, 10, 20, 30) == 600);
  CHECK(count_color(img, 200, 100, 50) == 600);
  // Text: some pixels are neither white nor a cell colour (antialiased black glyphs).
  const std::size_t n = img.shape()[1] * img.shape()[2];
  std::size_t dark = 0;
  for (std::size_t i = 0; i < n; ++i) dark += img[i] < 100 && img[n + i] < 100 && img[2 * n + i] < 100;
  CHECK(dark > 600 + 50);  // the (10, 20, 30) cell plus glyphs
}

TEST_CASE("labelled grid: mismatched labels or cell sizes are refused", "[datasets][labelled_grid]") {
  LabelledGrid g;
  g.row_labels = {"a"};
  g.column_labels = {"x", "y"};
  g.cells = {{solid(4, 4, 1, 2, 3)}};
  CHECK_THROWS_WITH(write_labelled_grid_png("/tmp/unused.png", g), Catch::Contains("expected 2"));
  g.cells = {{solid(4, 4, 1, 2, 3), solid(5, 4, 1, 2, 3)}};
  CHECK_THROWS_WITH(write_labelled_grid_png("/tmp/unused.png", g), Catch::Contains("differ in size"));
  g.cells = {{solid(4, 4, 1, 2, 3), solid(4, 4, 1, 2, 3)}};
  CHECK_THROWS_WITH(write_labelled_grid_png("/nonexistent-dir/g.png", g), Catch::Contains("cannot open for writing"));
}
