// tests/datasets/test_idx.cpp — IDX reading (raw and gzip), MNIST-layout directories, bad
// input, and the real Fashion-MNIST from Debian's dataset-fashion-mnist.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "datasets/fashion_mnist.hpp"
#include "datasets/file_bytes.hpp"
#include "datasets/idx.hpp"
#include "fixtures.hpp"

using namespace fzt;

namespace {

// Writes a tiny MNIST-layout directory: n images of h x w (train and t10k), labels i % 10.
void write_mnist_dir(const TempDir& dir, std::size_t n, std::size_t h, std::size_t w, bool gz,
                     const std::string& prefix = "") {
  for (std::string split : {"train", "t10k"}) {
    Bytes px = pattern(n * h * w, split == "train" ? 1 : 2);
    Bytes lab(n);
    for (std::size_t i = 0; i < n; ++i) lab[i] = static_cast<std::uint8_t>(i % 10);
    Bytes img = idx_bytes({static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(h), static_cast<std::uint32_t>(w)}, px);
    Bytes lbl = idx_bytes({static_cast<std::uint32_t>(n)}, lab);
    std::string ext = gz ? ".gz" : "";
    write_file(dir / (prefix + split + "-images-idx3-ubyte" + ext), gz ? gzip_bytes(img) : img);
    write_file(dir / (prefix + split + "-labels-idx1-ubyte" + ext), gz ? gzip_bytes(lbl) : lbl);
  }
}

}  // namespace

TEST_CASE("idx: raw and gzip images read back pixel for pixel", "[datasets][idx]") {
  TempDir dir;
  const std::size_t n = 7, h = 5, w = 3;
  Bytes px = pattern(n * h * w, 42);
  Bytes file = idx_bytes({n, h, w}, px);
  write_file(dir / "img.idx", file);
  write_file(dir / "img.idx.gz", gzip_bytes(file));
  for (std::string name : {"img.idx", "img.idx.gz"}) {
    fz::TensorU8 t = fz::read_idx_images(dir / name);
    REQUIRE(t.shape() == fz::Shape{n, 1, h, w});
    for (std::size_t i = 0; i < px.size(); ++i) REQUIRE(t[i] == px[i]);
  }
  // EMNIST stores images transposed: transpose=true gives (N, 1, W, H) with t[c][r] = src[r][c].
  fz::TensorU8 tt = fz::read_idx_images(dir / "img.idx", /*transpose=*/true);
  REQUIRE(tt.shape() == fz::Shape{n, 1, w, h});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t r = 0; r < h; ++r)
      for (std::size_t c = 0; c < w; ++c) REQUIRE(tt.at({i, 0, c, r}) == px[(i * h + r) * w + c]);
}

TEST_CASE("idx: labels and multi-member gzip", "[datasets][idx]") {
  TempDir dir;
  Bytes lab = {3, 1, 4, 1, 5, 9, 2, 6};
  Bytes file = idx_bytes({8}, lab);
  // Two gzip members concatenated (what `cat a.gz b.gz` makes) are one valid stream.
  Bytes a(file.begin(), file.begin() + 6), b(file.begin() + 6, file.end());
  Bytes two = gzip_bytes(a), gb = gzip_bytes(b);
  two.insert(two.end(), gb.begin(), gb.end());
  write_file(dir / "labels.gz", two);
  std::vector<std::int32_t> got = fz::read_idx_labels(dir / "labels.gz");
  REQUIRE(got == std::vector<std::int32_t>{3, 1, 4, 1, 5, 9, 2, 6});
}

TEST_CASE("idx: MNIST-layout directories, raw, gzip and with an EMNIST prefix", "[datasets][idx]") {
  for (bool gz : {false, true}) {
    TempDir dir;
    write_mnist_dir(dir, 12, 4, 6, gz);
    fz::ImageDataset train = fz::load_idx_dataset(dir.path(), true);
    fz::ImageDataset test = fz::load_idx_dataset(dir.path(), false);
    REQUIRE(train.images.shape() == fz::Shape{12, 1, 4, 6});
    REQUIRE(test.size() == 12);
    Bytes px = pattern(12 * 4 * 6, 1), px2 = pattern(12 * 4 * 6, 2);
    for (std::size_t i = 0; i < px.size(); ++i) {
      REQUIRE(train.images[i] == px[i]);
      REQUIRE(test.images[i] == px2[i]);
    }
    for (std::size_t i = 0; i < 12; ++i) REQUIRE(train.labels[i] == static_cast<std::int32_t>(i % 10));
  }
  TempDir dir;
  write_mnist_dir(dir, 3, 2, 2, true, "emnist-balanced-");
  fz::IdxDatasetOptions opt;
  opt.prefix = "emnist-balanced-";
  opt.transpose = true;
  REQUIRE(fz::load_idx_dataset(dir.path(), true, opt).size() == 3);
}

TEST_CASE("idx: bad input gives a DatasetError naming the file and the problem", "[datasets][idx][bad]") {
  TempDir dir;
  Bytes good = idx_bytes({2, 3, 3}, pattern(18, 5));

  SECTION("missing file") {
    require_dataset_error([&] { fz::read_idx_images(dir / "nope.idx"); }, {dir / "nope.idx", "cannot open"});
  }
  SECTION("wrong magic number") {
    Bytes b = good;
    b[0] = 0x1e;
    b[1] = 0x17;
    write_file(dir / "magic.idx", b);
    require_dataset_error([&] { fz::read_idx_images(dir / "magic.idx"); }, {dir / "magic.idx", "wrong magic number"});
  }
  SECTION("unsupported data type") {
    Bytes b = good;
    b[2] = 0x0D;  // float
    write_file(dir / "float.idx", b);
    require_dataset_error([&] { fz::read_idx_images(dir / "float.idx"); }, {dir / "float.idx", "data type 0x0d"});
  }
  SECTION("truncated header") {
    Bytes b(good.begin(), good.begin() + 9);
    write_file(dir / "hdr.idx", b);
    require_dataset_error([&] { fz::read_idx_images(dir / "hdr.idx"); }, {dir / "hdr.idx", "truncated IDX header"});
    write_file(dir / "tiny.idx", Bytes{0, 0});
    require_dataset_error([&] { fz::read_idx_images(dir / "tiny.idx"); }, {dir / "tiny.idx", "truncated IDX header"});
  }
  SECTION("truncated data") {
    Bytes b(good.begin(), good.end() - 1);
    write_file(dir / "short.idx", b);
    require_dataset_error([&] { fz::read_idx_images(dir / "short.idx"); },
                          {dir / "short.idx", "truncated data", "2 x 3 x 3", "need 18", "has 17"});
  }
  SECTION("header dimensions disagree with the file size (extra data)") {
    Bytes b = good;
    b.push_back(0);
    write_file(dir / "long.idx", b);
    require_dataset_error([&] { fz::read_idx_images(dir / "long.idx"); },
                          {dir / "long.idx", "disagrees with the header", "has 19"});
  }
  SECTION("absurd dimensions are refused before allocating") {
    Bytes b = idx_bytes({0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, pattern(16, 1));
    write_file(dir / "huge.idx", b);
    require_dataset_error([&] { fz::read_idx_images(dir / "huge.idx"); },
                          {dir / "huge.idx", "4294967295 x 4294967295 x 4294967295", "more than 2^64 bytes"});
    Bytes c = idx_bytes({60000, 4096, 4096}, pattern(16, 1));  // ~1 TB
    write_file(dir / "big.idx.gz", gzip_bytes(c));
    require_dataset_error([&] { fz::read_idx_images(dir / "big.idx.gz"); }, {dir / "big.idx.gz", "above the limit"});
  }
  SECTION("wrong number of dimensions") {
    write_file(dir / "labels_as_images.idx", idx_bytes({4}, Bytes{1, 2, 3, 4}));
    require_dataset_error([&] { fz::read_idx_images(dir / "labels_as_images.idx"); },
                          {dir / "labels_as_images.idx", "3 dimensions"});
    write_file(dir / "images_as_labels.idx", good);
    require_dataset_error([&] { fz::read_idx_labels(dir / "images_as_labels.idx"); },
                          {dir / "images_as_labels.idx", "1 dimension"});
    Bytes zero = {0, 0, 8, 0};
    write_file(dir / "zero.idx", zero);
    require_dataset_error([&] { fz::read_idx_labels(dir / "zero.idx"); }, {dir / "zero.idx", "0 dimensions"});
  }
  SECTION("corrupt gzip stream") {
    Bytes z = gzip_bytes(good);
    for (std::size_t i = 10; i < z.size() - 8; ++i) z[i] ^= 0xA5;
    write_file(dir / "corrupt.gz", z);
    require_dataset_error([&] { fz::read_idx_images(dir / "corrupt.gz"); }, {dir / "corrupt.gz", "gzip"});
    Bytes crc = gzip_bytes(good);
    crc[crc.size() - 6] ^= 0xFF;  // CRC32 in the trailer
    write_file(dir / "crc.gz", crc);
    require_dataset_error([&] { fz::read_idx_images(dir / "crc.gz"); }, {dir / "crc.gz", "corrupt gzip stream"});
  }
  SECTION("truncated gzip stream") {
    Bytes z = gzip_bytes(idx_bytes({20, 28, 28}, pattern(20 * 28 * 28, 9)));
    z.resize(z.size() / 2);
    write_file(dir / "cut.gz", z);
    require_dataset_error([&] { fz::read_idx_images(dir / "cut.gz"); }, {dir / "cut.gz", "truncated gzip stream"});
  }
  SECTION("garbage after the gzip stream") {
    Bytes z = gzip_bytes(good);
    z.push_back(0x42);
    write_file(dir / "tail.gz", z);
    require_dataset_error([&] { fz::read_idx_images(dir / "tail.gz"); }, {dir / "tail.gz", "after the end of the gzip stream"});
  }
  SECTION("image and label counts differ") {
    write_file(dir / "train-images-idx3-ubyte", idx_bytes({3, 2, 2}, pattern(12, 1)));
    write_file(dir / "train-labels-idx1-ubyte", idx_bytes({2}, Bytes{0, 1}));
    require_dataset_error([&] { fz::load_idx_dataset(dir.path(), true); },
                          {dir / "train-labels-idx1-ubyte", "2 labels", dir / "train-images-idx3-ubyte", "3 images"});
  }
  SECTION("missing files in a data directory") {
    require_dataset_error([&] { fz::load_fashion_mnist(true, dir.path()); },
                          {dir / "train-images-idx3-ubyte", "missing file"});
  }
}

TEST_CASE("idx: parse_idx works on memory buffers with a caller limit", "[datasets][idx]") {
  Bytes b = idx_bytes({4, 4}, pattern(16, 3));
  fz::IdxArray a = fz::parse_idx(b.data(), b.size(), "buf");
  REQUIRE(a.dims == std::vector<std::size_t>{4, 4});
  REQUIRE(a.data == pattern(16, 3));
  require_dataset_error([&] { fz::parse_idx(b.data(), b.size(), "buf", 15); }, {"buf:", "above the limit"});
  // A gzip stream that inflates past the limit stops there.
  Bytes zeros(1 << 20, 0);
  Bytes z = gzip_bytes(zeros);
  require_dataset_error([&] { fz::gunzip(z.data(), z.size(), "bomb", 1000); }, {"bomb", "more than the limit"});
  REQUIRE(fz::gunzip(z.data(), z.size(), "ok").size() == zeros.size());
}

TEST_CASE("idx: real Fashion-MNIST (Debian dataset-fashion-mnist)", "[datasets][idx][fashion]") {
  struct stat st;
  const std::string f = std::string(fz::kFashionMnistDir) + "/train-images-idx3-ubyte.gz";
  // scripts/setup.sh installs the package, so its absence is a setup failure, not a skip.
  INFO("Fashion-MNIST expected at " << fz::kFashionMnistDir << " (Debian package dataset-fashion-mnist)");
  REQUIRE(::stat(f.c_str(), &st) == 0);
  fz::ImageDataset train = fz::load_fashion_mnist(true);
  fz::ImageDataset test = fz::load_fashion_mnist(false);
  REQUIRE(train.images.shape() == fz::Shape{60000, 1, 28, 28});
  REQUIRE(test.images.shape() == fz::Shape{10000, 1, 28, 28});
  REQUIRE(train.labels.size() == 60000);
  REQUIRE(test.labels.size() == 10000);
  REQUIRE(train.class_names.size() == 10);
  // Balanced classes: 6000 per class in train, 1000 in test.
  std::vector<int> counts(10, 0), tcounts(10, 0);
  for (auto l : train.labels) counts[static_cast<std::size_t>(l)]++;
  for (auto l : test.labels) tcounts[static_cast<std::size_t>(l)]++;
  for (int c = 0; c < 10; ++c) {
    CHECK(counts[c] == 6000);
    CHECK(tcounts[c] == 1000);
  }
  // Known facts of the published files: the first training label is 9 (ankle boot), the
  // first test label is 9 too; the pixel mean is about 72.9/255 = 0.286.
  CHECK(train.labels[0] == 9);
  CHECK(test.labels[0] == 9);
  double sum = 0;
  for (std::size_t i = 0; i < train.images.numel(); ++i) sum += train.images[i];
  CHECK(sum / train.images.numel() / 255.0 == Approx(0.2860).margin(0.001));
}
