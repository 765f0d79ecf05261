// tests/datasets/test_cifar.cpp — CIFAR-10/100 binary batches written here and read back.
#include <catch2/catch.hpp>

#include "datasets/cifar.hpp"
#include "fixtures.hpp"

using namespace fzt;

namespace {

// `n` CIFAR-10 records with labels (i + salt) % 10 and pattern pixels.
Bytes cifar10_records(std::size_t n, std::uint32_t salt) {
  Bytes out;
  Bytes px = pattern(n * 3072, salt);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<std::uint8_t>((i + salt) % 10));
    out.insert(out.end(), px.begin() + static_cast<long>(i * 3072), px.begin() + static_cast<long>((i + 1) * 3072));
  }
  return out;
}

}  // namespace

TEST_CASE("cifar: CIFAR-10 batches read back every pixel and label", "[datasets][cifar]") {
  TempDir dir;
  for (int b = 1; b <= 5; ++b) write_file(dir / ("data_batch_" + std::to_string(b) + ".bin"), cifar10_records(3, b));
  write_file(dir / "test_batch.bin", gzip_bytes(cifar10_records(2, 99)));  // gzip works too
  fz::ImageDataset train = fz::load_cifar10(dir.path(), true, 3);
  REQUIRE(train.images.shape() == fz::Shape{15, 3, 32, 32});
  REQUIRE(train.class_names.size() == 10);
  for (int b = 1; b <= 5; ++b) {
    Bytes px = pattern(3 * 3072, static_cast<std::uint32_t>(b));
    for (std::size_t i = 0; i < 3; ++i) {
      std::size_t k = static_cast<std::size_t>(b - 1) * 3 + i;
      REQUIRE(train.labels[k] == static_cast<std::int32_t>((i + static_cast<std::size_t>(b)) % 10));
      for (std::size_t p = 0; p < 3072; ++p) REQUIRE(train.images[k * 3072 + p] == px[i * 3072 + p]);
    }
  }
  fz::ImageDataset test = fz::load_cifar10(dir.path(), false, 2);
  REQUIRE(test.size() == 2);
  REQUIRE(test.labels == std::vector<std::int32_t>{99 % 10, 100 % 10});
  // Channel layout: the record's first 1024 bytes are red = channel 0, row-major 32x32.
  Bytes px = pattern(2 * 3072, 99);
  REQUIRE(test.images.at({1, 2, 31, 30}) == px[3072 + 2 * 1024 + 31 * 32 + 30]);
}

TEST_CASE("cifar: CIFAR-100 fine and coarse labels; archive sub-folder", "[datasets][cifar]") {
  TempDir dir;
  std::string sub = dir.mkdir("cifar-100-binary");
  Bytes recs;
  Bytes px = pattern(4 * 3072, 7);
  for (std::size_t i = 0; i < 4; ++i) {
    recs.push_back(static_cast<std::uint8_t>(19 - i));  // coarse
    recs.push_back(static_cast<std::uint8_t>(99 - i));  // fine
    recs.insert(recs.end(), px.begin() + static_cast<long>(i * 3072), px.begin() + static_cast<long>((i + 1) * 3072));
  }
  write_file(sub + "/train.bin", recs);
  fz::ImageDataset fine = fz::load_cifar100(dir.path(), true, true, 4);
  fz::ImageDataset coarse = fz::load_cifar100(dir.path(), true, /*fine_labels=*/false, 4);
  REQUIRE(fine.labels == std::vector<std::int32_t>{99, 98, 97, 96});
  REQUIRE(coarse.labels == std::vector<std::int32_t>{19, 18, 17, 16});
  for (std::size_t i = 0; i < px.size(); ++i) REQUIRE(fine.images[i] == px[i]);
}

TEST_CASE("cifar: bad input gives a DatasetError naming the file and the problem", "[datasets][cifar][bad]") {
  TempDir dir;
  SECTION("missing file") {
    require_dataset_error([&] { fz::load_cifar10(dir.path(), false); }, {dir / "test_batch.bin", "missing CIFAR file"});
  }
  SECTION("truncated record") {
    Bytes b = cifar10_records(2, 1);
    b.pop_back();
    write_file(dir / "test_batch.bin", b);
    require_dataset_error([&] { fz::load_cifar10(dir.path(), false); },
                          {dir / "test_batch.bin", "not a whole number of 3073-byte records", "1 records + 3072 bytes"});
  }
  SECTION("empty file") {
    write_file(dir / "test_batch.bin", Bytes{});
    require_dataset_error([&] { fz::load_cifar10(dir.path(), false); }, {dir / "test_batch.bin", "empty"});
  }
  SECTION("label out of range") {
    Bytes b = cifar10_records(3, 0);
    b[2 * 3073] = 10;
    write_file(dir / "bad.bin", b);
    require_dataset_error([&] { fz::read_cifar_file(dir / "bad.bin", fz::CifarKind::Cifar10); },
                          {dir / "bad.bin", "record 2 has label 10", "[0, 10)"});
  }
  SECTION("CIFAR-10 data read as CIFAR-100 does not fit the record size") {
    write_file(dir / "train.bin", cifar10_records(2, 0));
    require_dataset_error([&] { fz::load_cifar100(dir.path(), true); }, {dir / "train.bin", "3074-byte records"});
  }
  SECTION("a batch cut exactly at a record boundary, or with a record appended") {
    // The published count by default: 9,999 whole records parse but are one short.
    write_file(dir / "test_batch.bin", cifar10_records(fz::kCifar10BatchRecords - 1, 0));
    require_dataset_error([&] { fz::load_cifar10(dir.path(), false); },
                          {dir / "test_batch.bin", "holds 9999 records where 10000 are expected", "truncated"});
    write_file(dir / "test_batch.bin", cifar10_records(4, 0));
    require_dataset_error([&] { fz::load_cifar10(dir.path(), false, 3); },
                          {dir / "test_batch.bin", "holds 4 records where 3 are expected", "extra data"});
    REQUIRE(fz::load_cifar10(dir.path(), false, 4).size() == 4);
    write_file(dir / "train.bin", Bytes(2 * 3074, 0));
    require_dataset_error([&] { fz::load_cifar100(dir.path(), true); },
                          {dir / "train.bin", "holds 2 records where 50000 are expected"});
  }
  SECTION("corrupt gzip") {
    Bytes z = gzip_bytes(cifar10_records(1, 0));
    z[z.size() / 2] ^= 0xFF;
    z[z.size() / 2 + 1] ^= 0xFF;
    write_file(dir / "z.bin", z);
    require_dataset_error([&] { fz::read_cifar_file(dir / "z.bin", fz::CifarKind::Cifar10); }, {dir / "z.bin", "gzip"});
  }
}
