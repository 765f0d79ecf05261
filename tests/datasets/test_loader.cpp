// tests/datasets/test_loader.cpp — DataLoader: determinism, coverage, drop-last, splits,
// flips and n-bit reduction.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <set>

#include "datasets/loader.hpp"
#include "fixtures.hpp"

namespace {

// n images (n, c, h, w) whose every pixel encodes (image index, position): pixel = (i * 7 + p) % 256,
// label = i % 10.
fz::ImageDataset make_dataset(std::size_t n, std::size_t c = 1, std::size_t h = 3, std::size_t w = 4) {
  fz::ImageDataset d;
  d.images = fz::TensorU8::empty({n, c, h, w});
  const std::size_t per = c * h * w;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t p = 0; p < per; ++p) d.images[i * per + p] = static_cast<std::uint8_t>((i * 7 + p * 13) % 256);
  for (std::size_t i = 0; i < n; ++i) d.labels.push_back(static_cast<std::int32_t>(i % 10));
  return d;
}

std::vector<std::size_t> epoch_indices(fz::DataLoader& loader) {
  std::vector<std::size_t> out;
  fz::Batch b;
  while (loader.next(b)) out.insert(out.end(), b.indices.begin(), b.indices.end());
  return out;
}

}  // namespace

TEST_CASE("loader: every example once per epoch, contents and labels match", "[datasets][loader]") {
  fz::ImageDataset d = make_dataset(103);
  fz::LoaderOptions opt;
  opt.batch_size = 10;
  opt.seed = 5;
  fz::DataLoader loader(d, opt);
  REQUIRE(loader.num_batches() == 11);
  fz::Batch b;
  std::vector<std::size_t> seen;
  std::size_t batches = 0;
  while (loader.next(b)) {
    ++batches;
    REQUIRE(b.images.shape() == fz::Shape{b.size(), 1, 3, 4});
    REQUIRE(b.size() == (batches == 11 ? 3u : 10u));
    for (std::size_t k = 0; k < b.size(); ++k) {
      const std::size_t i = b.indices[k];
      REQUIRE(b.labels[k] == static_cast<std::int32_t>(i % 10));
      for (std::size_t p = 0; p < 12; ++p) REQUIRE(b.images[k * 12 + p] == d.images[i * 12 + p]);
      seen.push_back(i);
    }
  }
  REQUIRE(batches == 11);
  std::vector<std::size_t> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> all(103);
  std::iota(all.begin(), all.end(), std::size_t(0));
  REQUIRE(sorted == all);
  REQUIRE(seen != all);  // shuffled
  REQUIRE(loader.epoch() == 1);  // next() moved on after the epoch ended
}

TEST_CASE("loader: same seed same order; epochs and seeds differ; shuffle off is in order", "[datasets][loader]") {
  fz::ImageDataset d = make_dataset(200);
  fz::LoaderOptions opt;
  opt.batch_size = 16;
  opt.seed = 42;
  fz::DataLoader a(d, opt), b(d, opt);
  std::vector<std::size_t> a0 = epoch_indices(a), b0 = epoch_indices(b);
  std::vector<std::size_t> a1 = epoch_indices(a);
  REQUIRE(a0 == b0);
  REQUIRE(a0 != a1);
  // set_epoch jumps straight to an epoch's order (what a resumed run does).
  fz::DataLoader c(d, opt);
  c.set_epoch(1);
  REQUIRE(epoch_indices(c) == a1);
  // Random access gives the same batches as sequential.
  fz::DataLoader r(d, opt);
  REQUIRE(r.batch(3).indices == std::vector<std::size_t>(a0.begin() + 48, a0.begin() + 64));
  opt.seed = 43;
  fz::DataLoader e(d, opt);
  REQUIRE(epoch_indices(e) != a0);
  opt.shuffle = false;
  fz::DataLoader f(d, opt);
  std::vector<std::size_t> in_order(200);
  std::iota(in_order.begin(), in_order.end(), std::size_t(0));
  REQUIRE(epoch_indices(f) == in_order);
  REQUIRE_THROWS_AS(f.batch(13), std::out_of_range);
}

TEST_CASE("loader: drop_last", "[datasets][loader]") {
  fz::ImageDataset d = make_dataset(50);
  fz::LoaderOptions opt;
  opt.batch_size = 16;
  opt.drop_last = true;
  fz::DataLoader loader(d, opt);
  REQUIRE(loader.num_batches() == 3);
  fz::Batch b;
  std::size_t count = 0, total = 0;
  while (loader.next(b)) {
    REQUIRE(b.size() == 16);
    ++count;
    total += b.size();
  }
  REQUIRE(count == 3);
  REQUIRE(total == 48);
  opt.drop_last = false;
  REQUIRE(fz::DataLoader(d, opt).num_batches() == 4);
  opt.batch_size = 64;
  opt.drop_last = true;
  REQUIRE(fz::DataLoader(d, opt).num_batches() == 0);
}

TEST_CASE("loader: train/validation split", "[datasets][loader]") {
  fz::TrainValidationSplit s = fz::train_validation_split(1000, std::size_t(100), 9);
  REQUIRE(s.validation.size() == 100);
  REQUIRE(s.train.size() == 900);
  std::set<std::size_t> all(s.train.begin(), s.train.end());
  for (std::size_t v : s.validation) REQUIRE(all.insert(v).second);  // disjoint
  REQUIRE(all.size() == 1000);
  REQUIRE(std::is_sorted(s.train.begin(), s.train.end()));
  REQUIRE(*all.rbegin() == 999);
  // Same seed same split; a random subset, not the tail.
  REQUIRE(fz::train_validation_split(1000, std::size_t(100), 9).validation == s.validation);
  REQUIRE(fz::train_validation_split(1000, std::size_t(100), 10).validation != s.validation);
  REQUIRE(s.validation.front() < 900);
  REQUIRE(fz::train_validation_split(1000, 0.1, 9).validation == s.validation);
  REQUIRE_THROWS_AS(fz::train_validation_split(10, std::size_t(11), 0), std::invalid_argument);
  REQUIRE_THROWS_AS(fz::train_validation_split(10, 1.0, 0), std::invalid_argument);

  // A loader over one side serves exactly those examples.
  fz::ImageDataset d = make_dataset(1000);
  fz::LoaderOptions opt;
  opt.batch_size = 32;
  fz::DataLoader val(d, s.validation, opt);
  REQUIRE(val.num_examples() == 100);
  std::vector<std::size_t> got = epoch_indices(val);
  std::sort(got.begin(), got.end());
  REQUIRE(got == s.validation);
  // subset() copies examples in the given order.
  fz::ImageDataset sub = fz::subset(d, {5, 2});
  REQUIRE(sub.images.shape() == fz::Shape{2, 1, 3, 4});
  REQUIRE(sub.labels == std::vector<std::int32_t>{5, 2});
  for (std::size_t p = 0; p < 12; ++p) REQUIRE(sub.images[p] == d.images[5 * 12 + p]);
  REQUIRE_THROWS_AS(fz::subset(d, {1000}), std::out_of_range);
}

TEST_CASE("loader: horizontal flip and n-bit reduction", "[datasets][loader]") {
  const std::size_t n = 256, c = 2, h = 3, w = 5, per = c * h * w;
  fz::ImageDataset d = make_dataset(n, c, h, w);
  fz::LoaderOptions opt;
  opt.batch_size = 64;
  opt.horizontal_flip = true;
  opt.bits = 5;
  opt.seed = 3;
  fz::DataLoader loader(d, opt);
  fz::Batch b;
  std::size_t flipped = 0;
  std::vector<std::uint8_t> flips_epoch0;
  while (loader.next(b)) {
    for (std::size_t k = 0; k < b.size(); ++k) {
      const std::uint8_t* src = d.images.data() + b.indices[k] * per;
      const std::uint8_t* dst = b.images.data() + k * per;
      bool same = true, mirror = true;
      for (std::size_t r = 0; r < c * h; ++r)
        for (std::size_t x = 0; x < w; ++x) {
          same = same && dst[r * w + x] == (src[r * w + x] >> 3);
          mirror = mirror && dst[r * w + x] == (src[r * w + (w - 1 - x)] >> 3);
          REQUIRE(dst[r * w + x] < 32);
        }
      REQUIRE(same != mirror);  // exactly one of the two (these images are not symmetric)
      flipped += mirror;
      flips_epoch0.push_back(mirror);
    }
  }
  // About half flipped.
  CHECK(flipped > 90);
  CHECK(flipped < 166);
  // Flips are deterministic: two loaders with the same seed produce identical bytes.
  fz::DataLoader x(d, opt), y(d, opt);
  fz::Batch bx, by;
  while (x.next(bx)) {
    REQUIRE(y.next(by));
    REQUIRE(bx.images.to_vector() == by.images.to_vector());
  }
  REQUIRE(flips_epoch0.size() == n);

  // The standalone transforms.
  fz::TensorU8 t({1, 1, 1, 4}, {0, 100, 200, 255});
  fz::flip_horizontal(t);
  REQUIRE(t.to_vector() == std::vector<std::uint8_t>{255, 200, 100, 0});
  fz::reduce_bits(t, 5);
  REQUIRE(t.to_vector() == std::vector<std::uint8_t>{31, 25, 12, 0});
  REQUIRE_THROWS_AS(fz::reduce_bits(t, 0), std::invalid_argument);
  opt.bits = 9;
  REQUIRE_THROWS_AS(fz::DataLoader(d, opt), std::invalid_argument);
  opt.bits = 8;
  opt.batch_size = 0;
  REQUIRE_THROWS_AS(fz::DataLoader(d, opt), std::invalid_argument);
}
