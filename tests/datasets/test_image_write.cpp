// tests/datasets/test_image_write.cpp — PNG grids, heatmaps and plots written, then read back
// with stb_image and checked for size and content.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include <stb_image.h>

#include "datasets/image_write.hpp"
#include "fixtures.hpp"

using namespace fzt;

namespace {

struct Png {
  int w = 0, h = 0, c = 0;
  std::vector<std::uint8_t> px;  // HWC
  std::uint8_t at(int x, int y, int ch) const { return px[static_cast<std::size_t>((y * w + x) * c + ch)]; }
};

Png read_png(const std::string& path) {
  Png p;
  int n = 0;
  stbi_uc* data = stbi_load(path.c_str(), &p.w, &p.h, &n, 0);
  REQUIRE(data != nullptr);
  p.c = n;
  p.px.assign(data, data + p.w * p.h * n);
  stbi_image_free(data);
  return p;
}

}  // namespace

TEST_CASE("image_write: uint8 image grid with padding reads back exactly", "[datasets][image_write]") {
  TempDir dir;
  const std::size_t n = 5, c = 3, h = 4, w = 3;
  fz::TensorU8 images = fz::TensorU8::empty({n, c, h, w});
  for (std::size_t i = 0; i < images.numel(); ++i) images[i] = static_cast<std::uint8_t>(i * 37 % 251);
  fz::write_image_grid(dir / "grid.png", images, /*ncols=*/3, /*padding=*/2, /*pad=*/17);
  Png p = read_png(dir / "grid.png");
  // 3 columns x 2 rows: width 3*3 + 4*2 = 17, height 2*4 + 3*2 = 14.
  REQUIRE(p.w == 17);
  REQUIRE(p.h == 14);
  REQUIRE(p.c == 3);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < c; ++k)
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
          int gx = static_cast<int>(2 + (i % 3) * (w + 2) + x), gy = static_cast<int>(2 + (i / 3) * (h + 2) + y);
          REQUIRE(p.at(gx, gy, static_cast<int>(k)) == images.at({i, k, y, x}));
        }
  // Padding and the empty sixth cell are pad_value.
  REQUIRE(p.at(0, 0, 0) == 17);
  REQUIRE(p.at(16, 13, 2) == 17);
  REQUIRE(p.at(2 + 2 * 5 + 1, 2 + 6 + 1, 1) == 17);
  // Default columns: ceil(sqrt(5)) = 3.
  REQUIRE(fz::make_image_grid(images, 0, 0).shape() == fz::Shape{3, 8, 9});
}

TEST_CASE("image_write: float grids are clamped and scaled; grey PNGs", "[datasets][image_write]") {
  TempDir dir;
  fz::Tensor<float> f({2, 1, 1, 2}, {-0.5f, 0.0f, 0.5f, 2.0f});
  fz::write_image_grid(dir / "f.png", f, 0.0, 1.0, 2, 1, 0);
  Png p = read_png(dir / "f.png");
  REQUIRE(p.w == 7);
  REQUIRE(p.h == 3);
  REQUIRE(p.c == 1);
  REQUIRE(p.at(1, 1, 0) == 0);    // -0.5 clamped
  REQUIRE(p.at(2, 1, 0) == 0);
  REQUIRE(p.at(4, 1, 0) == 128);  // 0.5 * 255 = 127.5 rounds to 128
  REQUIRE(p.at(5, 1, 0) == 255);  // 2.0 clamped
  fz::Tensor<double> dd({1, 1, 1, 1}, {0.25});
  REQUIRE(fz::to_uint8_images(dd, -1.0, 1.0)[0] == 159);  // (1.25 / 2) * 255 = 159.4
  fz::write_png(dir / "hw.png", fz::TensorU8({2, 3}, {1, 2, 3, 4, 5, 6}));
  Png q = read_png(dir / "hw.png");
  REQUIRE(q.w == 3);
  REQUIRE(q.h == 2);
  REQUIRE(q.at(2, 1, 0) == 6);
}

TEST_CASE("image_write: density heatmap colors follow the density", "[datasets][image_write]") {
  TempDir dir;
  // log p of a standard normal on a 40 x 60 grid over [-3, 3] x [-2, 2].
  fz::PlotRange range{-3, 3, -2, 2};
  fz::Tensor<double> pts = fz::density_grid(range, 60, 40);
  REQUIRE(pts.shape() == fz::Shape{2400, 2});
  // Row 0 is the top: its points have the largest y; columns go left to right.
  REQUIRE(pts[1] == Approx(2 - 0.05));
  REQUIRE(pts[0] == Approx(-3 + 0.05));
  REQUIRE(pts[2 * 2399 + 1] == Approx(-2 + 0.05));
  fz::Tensor<double> lp = fz::Tensor<double>::empty({40, 60});
  for (std::size_t i = 0; i < 2400; ++i) lp[i] = -0.5 * (pts[2 * i] * pts[2 * i] + pts[2 * i + 1] * pts[2 * i + 1]);
  fz::write_density_png(dir / "d.png", lp);
  Png p = read_png(dir / "d.png");
  REQUIRE(p.w == 60);
  REQUIRE(p.h == 40);
  REQUIRE(p.c == 3);
  std::uint8_t top[3], bottom[3];
  fz::viridis(1.0, top);
  fz::viridis(0.0, bottom);
  REQUIRE(top[0] == 253);
  REQUIRE(bottom[0] == 68);
  // The center is (almost) the maximum: bright yellow; the corners are dark purple-ish.
  CHECK(std::abs(int(p.at(30, 20, 0)) - top[0]) <= 6);
  CHECK(std::abs(int(p.at(30, 20, 1)) - top[1]) <= 6);
  CHECK(std::abs(int(p.at(0, 0, 0)) - bottom[0]) <= 6);
  CHECK(std::abs(int(p.at(0, 0, 2)) - bottom[2]) <= 6);
  // Symmetric density, symmetric picture.
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 60; ++x) REQUIRE(p.at(x, y, 1) == p.at(59 - x, 39 - y, 1));
  // Log scale: a point 5 nats below the max gets t = 0.5 with range 10.
  fz::Tensor<float> two({1, 2}, {0.0f, -5.0f});
  fz::TensorU8 hm = fz::density_heatmap(two, true, 10.0);
  std::uint8_t mid[3];
  fz::viridis(0.5, mid);
  REQUIRE(hm[1] == mid[0]);
  REQUIRE(hm[0] == top[0]);
  // Non-finite values get the lowest color instead of poisoning the scale.
  fz::Tensor<float> bad({1, 3}, {0.0f, -INFINITY, NAN});
  fz::TensorU8 hb = fz::density_heatmap(bad);
  REQUIRE(hb[0] == top[0]);
  REQUIRE(hb[1] == bottom[0]);
  REQUIRE(hb[2] == bottom[0]);
}

TEST_CASE("image_write: scatter cells", "[datasets][image_write]") {
  TempDir dir;
  fz::Tensor<float> pts({3, 2}, {0.0f, 0.0f, 1.0f, 1.0f, -0.9f, 0.9f});
  fz::write_scatter_png(dir / "s.png", pts, 100, 80, fz::PlotRange{-1, 1, -1, 1});
  Png s = read_png(dir / "s.png");
  REQUIRE(s.w == 100);
  REQUIRE(s.h == 80);
  // (0, 0) maps to pixel (50, 40), (-0.9, 0.9) to (5, 4): dark; an empty area stays white.
  CHECK(s.at(50, 40, 0) < 120);
  CHECK(s.at(5, 4, 0) < 120);
  CHECK(s.at(25, 60, 0) == 255);
  CHECK(s.at(25, 60, 2) == 255);
  // Auto range fits all points inside the picture.
  fz::TensorU8 auto_img = fz::scatter_image(pts, 50, 50);
  std::size_t dark = 0;
  for (std::size_t i = 0; i < 2500; ++i) dark += auto_img[i] < 200;
  CHECK(dark >= 3);
}

TEST_CASE("image_write: errors name the path", "[datasets][image_write][bad]") {
  TempDir dir;
  require_dataset_error([&] { fz::write_png(dir / "no/such/dir.png", fz::TensorU8({1, 2, 2})); },
                        {dir / "no/such/dir.png", "cannot open for writing"});
  require_dataset_error([&] { fz::write_png(dir / "x.png", fz::TensorU8({5, 2, 2})); }, {dir / "x.png", "(5, 2, 2)"});
  REQUIRE_THROWS_AS(fz::make_image_grid(fz::TensorU8({2, 2})), std::invalid_argument);
}
