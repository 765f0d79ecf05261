// tests/datasets/test_image_folder.cpp — PNG/JPEG/BMP folders written with stb_image_write
// and read back through stb_image (channel conversion, crop/resize, labels from subfolders).
#include <catch2/catch.hpp>

#include <cstdlib>

#include <stb_image_write.h>

#include "datasets/image_folder.hpp"
#include "fixtures.hpp"

using namespace fzt;

namespace {

// Interleaved HWC pixels: a deterministic pattern with `c` channels.
Bytes hwc_pattern(int w, int h, int c, std::uint32_t salt) { return pattern(static_cast<std::size_t>(w * h * c), salt); }

void write_png(const std::string& path, int w, int h, int c, const Bytes& px) {
  REQUIRE(stbi_write_png(path.c_str(), w, h, c, px.data(), w * c) != 0);
}

// Checks a (C, H, W) tensor slice of image k against interleaved HWC pixels exactly.
void require_same(const fz::TensorU8& images, std::size_t k, const Bytes& hwc, int w, int h, int c) {
  for (int ch = 0; ch < c; ++ch)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        REQUIRE(images.at({k, static_cast<std::size_t>(ch), static_cast<std::size_t>(y), static_cast<std::size_t>(x)}) ==
                hwc[static_cast<std::size_t>((y * w + x) * c + ch)]);
}

}  // namespace

TEST_CASE("image_folder: PNG, BMP and JPEG with labels from subfolders", "[datasets][image_folder]") {
  TempDir dir;
  std::string cats = dir.mkdir("cats"), dogs = dir.mkdir("dogs");
  dir.mkdir("empty_class");  // a subfolder without images is not a class
  const int w = 6, h = 4;
  Bytes a = hwc_pattern(w, h, 3, 1), b = hwc_pattern(w, h, 3, 2);
  write_png(cats + "/a.png", w, h, 3, a);
  REQUIRE(stbi_write_bmp((dogs + "/b.BMP").c_str(), w, h, 3, b.data()) != 0);
  // JPEG is lossy: a flat color survives almost exactly.
  Bytes flat(static_cast<std::size_t>(w * h * 3));
  for (std::size_t i = 0; i < flat.size(); i += 3) flat[i] = 200, flat[i + 1] = 40, flat[i + 2] = 90;
  REQUIRE(stbi_write_jpg((dogs + "/c.jpg").c_str(), w, h, 3, flat.data(), 100) != 0);
  write_file(dogs + "/notes.txt", Bytes{'h', 'i'});  // not an image: ignored
  Bytes top = hwc_pattern(w, h, 3, 3);
  write_png(dir / "top.png", w, h, 3, top);

  fz::ImageDataset d = fz::load_image_folder(dir.path());
  REQUIRE(d.images.shape() == fz::Shape{4, 3, 4, 6});
  REQUIRE(d.class_names == std::vector<std::string>{"cats", "dogs"});
  // Sorted entries: cats/a.png, dogs/b.BMP, dogs/c.jpg, top.png.
  REQUIRE(d.labels == std::vector<std::int32_t>{0, 1, 1, -1});
  require_same(d.images, 0, a, w, h, 3);
  require_same(d.images, 1, b, w, h, 3);
  require_same(d.images, 3, top, w, h, 3);
  for (std::size_t i = 0; i < static_cast<std::size_t>(w * h); ++i) {
    CHECK(std::abs(int(d.images[2 * 72 + i]) - 200) <= 3);
    CHECK(std::abs(int(d.images[2 * 72 + 24 + i]) - 40) <= 3);
    CHECK(std::abs(int(d.images[2 * 72 + 48 + i]) - 90) <= 3);
  }
}

TEST_CASE("image_folder: channel conversion", "[datasets][image_folder]") {
  TempDir dir;
  Bytes rgb = hwc_pattern(5, 3, 3, 11), rgba = hwc_pattern(5, 3, 4, 12);
  write_png(dir / "rgb.png", 5, 3, 3, rgb);
  write_png(dir / "rgba.png", 5, 3, 4, rgba);
  // RGB -> grey uses stb's luma: (77 r + 150 g + 29 b) >> 8.
  fz::TensorU8 g = fz::read_image(dir / "rgb.png", 1);
  REQUIRE(g.shape() == fz::Shape{1, 3, 5});
  for (std::size_t i = 0; i < 15; ++i)
    REQUIRE(g[i] == static_cast<std::uint8_t>((77 * rgb[3 * i] + 150 * rgb[3 * i + 1] + 29 * rgb[3 * i + 2]) >> 8));
  fz::TensorU8 t4 = fz::read_image(dir / "rgba.png", 4);
  REQUIRE(t4.shape() == fz::Shape{4, 3, 5});
  for (std::size_t ch = 0; ch < 4; ++ch)
    for (std::size_t i = 0; i < 15; ++i) REQUIRE(t4[ch * 15 + i] == rgba[4 * i + ch]);
  // Grey -> RGB replicates.
  Bytes grey = hwc_pattern(5, 3, 1, 13);
  write_png(dir / "grey.png", 5, 3, 1, grey);
  fz::TensorU8 t3 = fz::read_image(dir / "grey.png", 3);
  for (std::size_t ch = 0; ch < 3; ++ch)
    for (std::size_t i = 0; i < 15; ++i) REQUIRE(t3[ch * 15 + i] == grey[i]);
}

TEST_CASE("image_folder: center crop and resize", "[datasets][image_folder]") {
  TempDir dir;
  // 8 wide x 4 high to 4x4: the scale is 1 (height already fits), so the crop is the exact
  // middle columns 2..5.
  Bytes wide = hwc_pattern(8, 4, 1, 21);
  write_png(dir / "wide.png", 8, 4, 1, wide);
  fz::TensorU8 c = fz::read_image(dir / "wide.png", 1, 4, 4);
  REQUIRE(c.shape() == fz::Shape{1, 4, 4});
  for (std::size_t y = 0; y < 4; ++y)
    for (std::size_t x = 0; x < 4; ++x) REQUIRE(c.at({0, y, x}) == wide[y * 8 + x + 2]);
  // A flat image stays flat after downscaling (16x12 -> 6x6) and upscaling (-> 20x20).
  Bytes flat(16 * 12 * 3);
  for (std::size_t i = 0; i < flat.size(); i += 3) flat[i] = 10, flat[i + 1] = 128, flat[i + 2] = 250;
  write_png(dir / "flat.png", 16, 12, 3, flat);
  for (int s : {6, 20}) {
    fz::TensorU8 r = fz::read_image(dir / "flat.png", 3, s, s);
    REQUIRE(r.shape() == fz::Shape{3, static_cast<std::size_t>(s), static_cast<std::size_t>(s)});
    const std::size_t hw = static_cast<std::size_t>(s * s);
    for (std::size_t i = 0; i < hw; ++i) {
      REQUIRE(std::abs(int(r[i]) - 10) <= 1);
      REQUIRE(std::abs(int(r[hw + i]) - 128) <= 1);
      REQUIRE(std::abs(int(r[2 * hw + i]) - 250) <= 1);
    }
  }
  // A folder of mixed sizes loads when a size is given.
  fz::ImageFolderOptions opt;
  opt.channels = 1;
  opt.height = opt.width = 4;
  fz::ImageDataset d = fz::load_image_folder(dir.path(), opt);
  REQUIRE(d.images.shape() == fz::Shape{2, 1, 4, 4});
}

TEST_CASE("image_folder: bad input gives a DatasetError naming the path and the problem",
          "[datasets][image_folder][bad]") {
  TempDir dir;
  SECTION("missing folder") {
    require_dataset_error([&] { fz::load_image_folder(dir / "nowhere"); }, {dir / "nowhere", "does not exist"});
  }
  SECTION("empty folder") {
    dir.mkdir("sub");
    write_file(dir / "readme.txt", Bytes{'x'});
    require_dataset_error([&] { fz::load_image_folder(dir.path()); }, {dir.path(), "empty image folder"});
  }
  SECTION("unreadable image") {
    write_png(dir / "good.png", 2, 2, 1, Bytes{1, 2, 3, 4});
    write_file(dir / "broken.png", Bytes{0x89, 'P', 'N', 'G', 1, 2, 3, 4, 5, 6, 7});
    require_dataset_error([&] { fz::load_image_folder(dir.path()); }, {dir / "broken.png", "unreadable image"});
    write_file(dir / "empty.jpg", Bytes{});
    require_dataset_error([&] { fz::read_image(dir / "empty.jpg", 3); }, {dir / "empty.jpg", "unreadable image"});
  }
  SECTION("images of different sizes without a target size") {
    write_png(dir / "a.png", 2, 2, 1, Bytes{1, 2, 3, 4});
    write_png(dir / "b.png", 3, 2, 1, Bytes{1, 2, 3, 4, 5, 6});
    require_dataset_error([&] { fz::load_image_folder(dir.path(), {1, 0, 0}); }, {dir / "b.png", "3x2", "2x2"});
  }
  SECTION("bad channel count") {
    write_png(dir / "a.png", 2, 2, 1, Bytes{1, 2, 3, 4});
    require_dataset_error([&] { fz::load_image_folder(dir.path(), {5, 0, 0}); }, {dir.path(), "5 channels"});
  }
  SECTION("missing image file") {
    require_dataset_error([&] { fz::read_image(dir / "x.png", 3); }, {dir / "x.png", "cannot open"});
  }
}
