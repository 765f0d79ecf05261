// tests/datasets/test_image_folder.cpp — PNG/JPEG/BMP folders written with stb_image_write
// and read back through stb_image (channel conversion, crop/resize, labels from subfolders).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

#include <unistd.h>

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

namespace {

// A PNG that is only a signature, an IHDR claiming w x h (8-bit RGB) and IEND: enough for the
// header to be read, nothing to decode. stb_image does not check chunk CRCs, so they are 0.
Bytes png_header_only(std::uint32_t w, std::uint32_t h) {
  Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  auto be32 = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
  };
  be32(13);
  b.insert(b.end(), {'I', 'H', 'D', 'R'});
  be32(w);
  be32(h);
  b.insert(b.end(), {8, 2, 0, 0, 0});
  be32(0);
  be32(0);
  b.insert(b.end(), {'I', 'E', 'N', 'D'});
  be32(0);
  return b;
}

Bytes read_bytes(const std::string& path) { return fz::read_file_raw(path); }

}  // namespace

TEST_CASE("image_folder: the format comes from the magic bytes, not the file name", "[datasets][image_folder][bad]") {
  TempDir dir;
  const Bytes px = hwc_pattern(4, 3, 3, 5);
  // A TGA (no magic number) named .png: stb would read it through its TGA fallback.
  REQUIRE(stbi_write_tga((dir / "disguised.png").c_str(), 4, 3, 3, px.data()) != 0);
  require_dataset_error([&] { fz::read_image(dir / "disguised.png", 3); },
                        {dir / "disguised.png", "not a PNG, JPEG, BMP, GIF or binary PNM", "TGA"});
  // Arbitrary bytes with an image name, as the 29864x3034 "PNG".
  write_file(dir / "noise.png", pattern(4096, 11));
  require_dataset_error([&] { fz::load_image_folder(dir.path()); }, {"not a PNG, JPEG, BMP, GIF or binary PNM"});
  // A damaged BMP (its header size field zeroed) is refused; stb is built with only the five
  // readers (datasets/stb_impl.cpp), so no other reader gets to guess at it.
  REQUIRE(stbi_write_bmp((dir / "damaged.bmp").c_str(), 4, 3, 3, px.data()) != 0);
  Bytes bmp = read_bytes(dir / "damaged.bmp");
  for (int i = 14; i < 18; ++i) bmp[static_cast<std::size_t>(i)] = 0;
  write_file(dir / "damaged.bmp", bmp);
  require_dataset_error([&] { fz::read_image(dir / "damaged.bmp", 3); }, {dir / "damaged.bmp", "unreadable image"});
  // A real BMP named .jpg is read: the content decides.
  TempDir ok;
  REQUIRE(stbi_write_bmp((ok / "actually_bmp.jpg").c_str(), 4, 3, 3, px.data()) != 0);
  fz::ImageDataset d = fz::load_image_folder(ok.path());
  REQUIRE(d.images.shape() == fz::Shape{1, 3, 3, 4});
  require_same(d.images, 0, px, 4, 3, 3);
  REQUIRE(std::string(fz::image_format_from_magic(read_bytes(ok / "actually_bmp.jpg").data(), 54)) == "BMP");
}

TEST_CASE("image_folder: images over the pixel budget are refused from their header", "[datasets][image_folder][bad]") {
  TempDir dir;
  // 10000 x 6000 = 60 megapixels claimed by a 45-byte file: refused by the default budget
  // before stb allocates anything (it would need 180 MB for the pixels).
  write_file(dir / "huge.png", png_header_only(10000, 6000));
  require_dataset_error([&] { fz::read_image(dir / "huge.png", 3); },
                        {dir / "huge.png", "10000x6000 pixels", "60.0 megapixels, above the budget of 50.0",
                         "--max-megapixels"});
  // A real image just over a lowered budget, through the folder options; at the budget it loads.
  write_png(dir / "small.png", 300, 200, 1, hwc_pattern(300, 200, 1, 1));
  std::remove((dir / "huge.png").c_str());
  fz::ImageFolderOptions opt;
  opt.channels = 1;
  opt.max_pixels = 59'999;
  require_dataset_error([&] { fz::load_image_folder(dir.path(), opt); }, {dir / "small.png", "300x200 pixels"});
  opt.max_pixels = 60'000;
  REQUIRE(fz::load_image_folder(dir.path(), opt).size() == 1);
}

TEST_CASE("image_folder: folders nested in a class folder are read recursively into that class",
          "[datasets][image_folder]") {
  TempDir dir;
  const std::string cats = dir.mkdir("cats");
  dir.mkdir("cats/kittens");
  dir.mkdir("cats/kittens/tiny");
  dir.mkdir("dogs");
  const Bytes a = hwc_pattern(2, 2, 1, 1), b = hwc_pattern(2, 2, 1, 2), c = hwc_pattern(2, 2, 1, 3), d = hwc_pattern(2, 2, 1, 4);
  write_png(cats + "/z.png", 2, 2, 1, a);
  write_png(cats + "/kittens/b.png", 2, 2, 1, b);
  write_png(cats + "/kittens/tiny/c.png", 2, 2, 1, c);
  write_png(dir / "dogs/d.png", 2, 2, 1, d);
  fz::ImageDataset set = fz::load_image_folder(dir.path(), {1, 0, 0});
  // Sorted at each level: cats/kittens/b, cats/kittens/tiny/c, cats/z, dogs/d.
  REQUIRE(set.size() == 4);
  REQUIRE(set.class_names == std::vector<std::string>{"cats", "dogs"});
  REQUIRE(set.labels == std::vector<std::int32_t>{0, 0, 0, 1});
  require_same(set.images, 0, b, 2, 2, 1);
  require_same(set.images, 1, c, 2, 2, 1);
  require_same(set.images, 2, a, 2, 2, 1);
  require_same(set.images, 3, d, 2, 2, 1);
  // A symbolic link loop is reported, not followed forever.
  REQUIRE(::symlink(cats.c_str(), (cats + "/kittens/loop").c_str()) == 0);
  require_dataset_error([&] { fz::load_image_folder(dir.path(), {1, 0, 0}); }, {"nested more than 8 levels"});
}

TEST_CASE("image_folder: inputs found by fuzzing give a DatasetError, not a crash or a huge allocation",
          "[datasets][image_folder][bad][fuzz]") {
  // Each file is a fuzz_image input: a mode byte, then the image (see fuzz/fuzz_image.cpp).
  struct Case {
    const char* file;
    const char* fragment;
  };
  const Case cases[] = {
      // stb 2.27 wrote past its Huffman arrays (a DHT table of more than 256 codes; UBSan).
      {"image_jpeg_dht_overflow.bin", "a Huffman table lists more than 256 codes"},
      // The same with the table's counts cut off by the end of the file (stb reads them as 0).
      {"image_jpeg_dht_at_end.bin", "a Huffman table lists more than 256 codes"},
      // A PNM width of 60 digits: stb overflowed an int while reading it (UBSan).
      {"image_pnm_width_overflow.bin", "a number in its header is larger than 2^31"},
      // A 16-bit PGM (maximum value 5225): stb read past its buffer converting it (ASan).
      {"image_pnm_16bit.bin", "16-bit samples (maximum value 5225)"},
      // A JPEG scan using a Huffman table no DHT defined: stb indexed with uninitialised heap
      // memory (UBSan); its allocations are now zeroed (datasets/stb_impl.cpp), the table reads
      // as empty and the image decodes (to garbage) without undefined behaviour.
      {"image_jpeg_undefined_huffman.bin", nullptr},
      // An IDAT chunk claiming 1 GB in a 60-byte file: stb allocated the claimed size.
      {"image_png_chunk_length.bin", "past the end of the file"},
  };
  for (const Case& c : cases) {
    const Bytes in = read_bytes(std::string(FZ_FUZZ_REGRESSIONS) + "/" + c.file);
    REQUIRE(in.size() > 1);
    const int channels = in[0] % 4 + 1, side = (in[0] & 0x10) ? 8 : 0;
    if (!c.fragment) {  // decodes: the finding was undefined behaviour (seen under UBSan), not an error
      const fz::TensorU8 img = fz::decode_image(in.data() + 1, in.size() - 1, c.file, channels, side, side, 1'000'000);
      REQUIRE(img.size(0) == static_cast<std::size_t>(channels));
      continue;
    }
    require_dataset_error([&] { fz::decode_image(in.data() + 1, in.size() - 1, c.file, channels, side, side, 1'000'000); },
                          {c.file, c.fragment});
  }
}

TEST_CASE("image_folder: an image whose data inflates far beyond its size is refused", "[datasets][image_folder][bad]") {
  // A 4x4 grey PNG needs 4 * (1 + 4) = 20 bytes of image data; this one's IDAT inflates to 1 MB.
  TempDir dir;
  Bytes png = png_header_only(4, 4);
  png[8 + 8 + 9] = 0;  // colour type 0 (grey)
  png.resize(png.size() - 12);  // drop IEND
  const Bytes bomb = Bytes(1 << 20, 0);
  uLongf zlen = compressBound(static_cast<uLong>(bomb.size()));
  Bytes z(zlen);
  REQUIRE(compress(z.data(), &zlen, bomb.data(), static_cast<uLong>(bomb.size())) == Z_OK);
  z.resize(zlen);
  for (int s = 24; s >= 0; s -= 8) png.push_back(static_cast<std::uint8_t>(zlen >> s));
  png.insert(png.end(), {'I', 'D', 'A', 'T'});
  png.insert(png.end(), z.begin(), z.end());
  png.insert(png.end(), {0, 0, 0, 0, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0, 0, 0, 0});
  write_file(dir / "bomb.png", png);
  require_dataset_error([&] { fz::read_image(dir / "bomb.png", 1); }, {dir / "bomb.png", "zlib bomb"});
  // Apple's CgBI PNGs hold raw deflate data that cannot be measured the same way: refused.
  Bytes cgbi = png_header_only(4, 4);
  const Bytes chunk = {0, 0, 0, 4, 'C', 'g', 'B', 'I', 0x50, 0, 0x20, 0x06, 0, 0, 0, 0};
  cgbi.insert(cgbi.begin() + 8, chunk.begin(), chunk.end());
  write_file(dir / "cgbi.png", cgbi);
  require_dataset_error([&] { fz::read_image(dir / "cgbi.png", 1); }, {dir / "cgbi.png", "CgBI"});
}
