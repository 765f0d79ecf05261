// tests/tensor/test_layout.cpp — permute, transpose, slice, concat, split, chunk, pad/unpad,
// squeeze2d/unsqueeze2d (exact Glow/RealNVP channel order, round trips) and flip: exact
// values on small tensors and the error messages for bad axes and shapes.
#include <catch2/catch.hpp>

#include <cstdint>

#include "tensor/layout.hpp"

using namespace fz;

namespace {

Tensor64 iota(const Shape& s) {
  Tensor64 t = Tensor64::empty(s);
  for (std::size_t i = 0; i < t.numel(); ++i) t[i] = static_cast<double>(i);
  return t;
}

}  // namespace

TEST_CASE("layout: permute moves every element to the permuted index", "[tensor][layout]") {
  Tensor64 x = iota({2, 3, 4});
  Tensor64 y = permute(x, {2, 0, 1});
  REQUIRE(y.shape() == Shape{4, 2, 3});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k) REQUIRE(y.at({k, i, j}) == x.at({i, j, k}));
  Tensor64 z = permute(x, {0, -1, 1});  // negative axes
  REQUIRE(z.shape() == Shape{2, 4, 3});
  REQUIRE(z.at({1, 3, 2}) == x.at({1, 2, 3}));
  Tensor64 id = permute(x, {0, 1, 2});
  REQUIRE(id.to_vector() == x.to_vector());
  REQUIRE(!id.shares_storage_with(x));
  // NCHW -> NHWC, with a size-1 axis in the way
  Tensor64 a = iota({2, 1, 3, 5});
  Tensor64 b = permute(a, {0, 2, 3, 1});
  REQUIRE(b.shape() == Shape{2, 3, 5, 1});
  REQUIRE(b.to_vector() == a.to_vector());
  REQUIRE_THROWS_AS(permute(x, {0, 1}), std::invalid_argument);
  REQUIRE_THROWS_WITH(permute(x, {0, 0, 1}), Catch::Contains("repeated"));
  REQUIRE_THROWS_AS(permute(x, {0, 1, 3}), std::out_of_range);
}

TEST_CASE("layout: transpose swaps two axes", "[tensor][layout]") {
  Tensor64 x({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor64 t = transpose(x, 0, 1);
  REQUIRE(t.shape() == Shape{3, 2});
  REQUIRE(t.to_vector() == std::vector<double>{1, 4, 2, 5, 3, 6});
  Tensor64 big = iota({3, 70, 90});
  Tensor64 tb = transpose(big, -1, -2);
  REQUIRE(tb.shape() == Shape{3, 90, 70});
  REQUIRE(tb.at({2, 89, 69}) == big.at({2, 69, 89}));
  REQUIRE(tb.at({1, 5, 7}) == big.at({1, 7, 5}));
  REQUIRE_THROWS_AS(transpose(x, 0, 2), std::out_of_range);
}

TEST_CASE("layout: slice with negative bounds and range errors", "[tensor][layout]") {
  Tensor64 x = iota({2, 4});
  Tensor64 s = slice(x, 1, 1, 3);
  REQUIRE(s.shape() == Shape{2, 2});
  REQUIRE(s.to_vector() == std::vector<double>{1, 2, 5, 6});
  REQUIRE(slice(x, -1, -3, -1).to_vector() == std::vector<double>{1, 2, 5, 6});
  REQUIRE(slice(x, 0, 1, 2).to_vector() == std::vector<double>{4, 5, 6, 7});
  REQUIRE(slice(x, 1, 2, 2).shape() == Shape{2, 0});
  REQUIRE_THROWS_AS(slice(x, 1, 3, 5), std::out_of_range);
  REQUIRE_THROWS_WITH(slice(x, 1, 3, 2), Catch::Contains("slice") && Catch::Contains("(2, 4)"));
  REQUIRE_THROWS_AS(slice(x, 2, 0, 1), std::out_of_range);
}

TEST_CASE("layout: concat joins along an axis and checks the other axes", "[tensor][layout]") {
  Tensor64 a({2, 1}, {1, 2});
  Tensor64 b({2, 2}, {3, 4, 5, 6});
  Tensor64 c = concat({a, b}, 1);
  REQUIRE(c.shape() == Shape{2, 3});
  REQUIRE(c.to_vector() == std::vector<double>{1, 3, 4, 2, 5, 6});
  Tensor64 d = concat({b, b}, -2);
  REQUIRE(d.shape() == Shape{4, 2});
  REQUIRE(d.to_vector() == std::vector<double>{3, 4, 5, 6, 3, 4, 5, 6});
  REQUIRE(concat(std::vector<Tensor64>{a}, 0).to_vector() == a.to_vector());
  REQUIRE_THROWS_WITH(concat({a, b}, 0), Catch::Contains("(2, 1)") && Catch::Contains("(2, 2)"));
  REQUIRE_THROWS_AS(concat({a, Tensor64({2, 1, 1})}, 1), std::invalid_argument);
  REQUIRE_THROWS_AS(concat(std::vector<Tensor64>{}, 0), std::invalid_argument);
  REQUIRE_THROWS_AS(concat({a, a}, 2), std::out_of_range);
}

TEST_CASE("layout: split and chunk are inverse to concat", "[tensor][layout]") {
  Tensor64 x = iota({2, 5});
  auto parts = split(x, {2, 3}, 1);
  REQUIRE(parts.size() == 2);
  REQUIRE(parts[0].to_vector() == std::vector<double>{0, 1, 5, 6});
  REQUIRE(parts[1].to_vector() == std::vector<double>{2, 3, 4, 7, 8, 9});
  REQUIRE(concat(parts, 1).to_vector() == x.to_vector());
  auto ch = chunk(x, 3, -1);  // ceil(5/3) = 2: pieces 2, 2, 1
  REQUIRE(ch.size() == 3);
  REQUIRE(ch[0].shape() == Shape{2, 2});
  REQUIRE(ch[2].shape() == Shape{2, 1});
  REQUIRE(ch[2].to_vector() == std::vector<double>{4, 9});
  REQUIRE(chunk(x, 2, 0)[1].to_vector() == std::vector<double>{5, 6, 7, 8, 9});
  REQUIRE(chunk_sizes(4, 4) == std::vector<std::size_t>{1, 1, 1, 1});
  REQUIRE(chunk_sizes(6, 4) == std::vector<std::size_t>{2, 2, 2});  // fewer pieces, like torch
  REQUIRE_THROWS_WITH(split(x, {2, 2}, 1), Catch::Contains("add up to 4"));
  REQUIRE_THROWS_AS(chunk(x, 0, 1), std::invalid_argument);
}

TEST_CASE("layout: pad with a constant, unpad crops it back", "[tensor][layout]") {
  Tensor64 x({2, 2}, {1, 2, 3, 4});
  Tensor64 p = pad(x, {{1, 0}, {0, 2}}, -1.0);
  REQUIRE(p.shape() == Shape{3, 4});
  REQUIRE(p.to_vector() == std::vector<double>{-1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1, -1});
  REQUIRE(unpad(p, {{1, 0}, {0, 2}}).to_vector() == x.to_vector());
  // NCHW spatial padding on the trailing axes
  Tensor64 img = iota({2, 3, 4, 5});
  Tensor64 q = pad2d(img, 1, 1, 2, 0);
  REQUIRE(q.shape() == Shape{2, 3, 6, 7});
  REQUIRE(q.at({1, 2, 0, 3}) == 0.0);
  REQUIRE(q.at({1, 2, 1, 2}) == img.at({1, 2, 0, 0}));
  REQUIRE(q.at({0, 1, 4, 6}) == img.at({0, 1, 3, 4}));
  REQUIRE(q.at({0, 1, 5, 6}) == 0.0);
  REQUIRE(unpad(q, {{1, 1}, {2, 0}}).to_vector() == img.to_vector());
  Tensor64 one = pad(Tensor64({3}, {1, 2, 3}), {{2, 1}});
  REQUIRE(one.to_vector() == std::vector<double>{0, 0, 1, 2, 3, 0});
  REQUIRE_THROWS_AS(pad(x, {{1, 1}, {1, 1}, {1, 1}}), std::invalid_argument);
  REQUIRE_THROWS_WITH(unpad(x, {{2, 1}}), Catch::Contains("unpad"));
}

TEST_CASE("layout: squeeze2d uses the Glow/RealNVP channel order", "[tensor][layout]") {
  const std::size_t N = 2, C = 3, H = 4, W = 6;
  Tensor64 x = iota({N, C, H, W});
  Tensor64 y = squeeze2d(x);
  REQUIRE(y.shape() == Shape{N, 4 * C, H / 2, W / 2});
  // out[n, (dy*2 + dx)*C + c, i, j] = x[n, c, 2i + dy, 2j + dx]
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t dy = 0; dy < 2; ++dy)
        for (std::size_t dx = 0; dx < 2; ++dx)
          for (std::size_t i = 0; i < H / 2; ++i)
            for (std::size_t j = 0; j < W / 2; ++j)
              REQUIRE(y.at({n, (dy * 2 + dx) * C + c, i, j}) ==
                      x.at({n, c, 2 * i + dy, 2 * j + dx}));
  // The same as PyTorch's view(N,C,H/2,2,W/2,2).permute(0,3,5,1,2,4).reshape(N,4C,H/2,W/2).
  Tensor64 ref = permute(x.reshape({N, C, H / 2, 2, W / 2, 2}), {0, 3, 5, 1, 2, 4})
                     .reshape({N, 4 * C, H / 2, W / 2});
  REQUIRE(y.to_vector() == ref.to_vector());
  // One 2x2 image, one channel: channels are top-left, top-right, bottom-left, bottom-right.
  Tensor64 small({1, 1, 2, 2}, {1, 2, 3, 4});
  REQUIRE(squeeze2d(small).shape() == Shape{1, 4, 1, 1});
  REQUIRE(squeeze2d(small).to_vector() == std::vector<double>{1, 2, 3, 4});
}

TEST_CASE("layout: unsqueeze2d inverts squeeze2d exactly", "[tensor][layout]") {
  Tensor32 x = Tensor32::empty({3, 2, 8, 10});
  for (std::size_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(i) * 0.5f - 7.f;
  Tensor32 back = unsqueeze2d(squeeze2d(x));
  REQUIRE(back.shape() == x.shape());
  REQUIRE(back.to_vector() == x.to_vector());
  Tensor32 z = Tensor32::empty({2, 8, 3, 5});
  for (std::size_t i = 0; i < z.numel(); ++i) z[i] = static_cast<float>(i);
  REQUIRE(unsqueeze2d(z).shape() == Shape{2, 2, 6, 10});
  REQUIRE(squeeze2d(unsqueeze2d(z)).to_vector() == z.to_vector());
  REQUIRE_THROWS_WITH(squeeze2d(Tensor32({1, 1, 3, 4})), Catch::Contains("(1, 1, 3, 4)"));
  REQUIRE_THROWS_AS(squeeze2d(Tensor32({1, 1, 4, 5})), std::invalid_argument);
  REQUIRE_THROWS_AS(squeeze2d(Tensor32({4, 4})), std::invalid_argument);
  REQUIRE_THROWS_AS(unsqueeze2d(Tensor32({1, 6, 2, 2})), std::invalid_argument);
  // uint8 image batches go through too
  TensorU8 u({1, 1, 2, 2}, {10, 20, 30, 40});
  REQUIRE(squeeze2d(u).to_vector() == std::vector<std::uint8_t>{10, 20, 30, 40});
}

TEST_CASE("layout: flip reverses one axis", "[tensor][layout]") {
  Tensor64 x = iota({2, 3});
  REQUIRE(flip(x, 1).to_vector() == std::vector<double>{2, 1, 0, 5, 4, 3});
  REQUIRE(flip(x, -2).to_vector() == std::vector<double>{3, 4, 5, 0, 1, 2});
  REQUIRE(flip(flip(x, 0), 0).to_vector() == x.to_vector());
  REQUIRE_THROWS_AS(flip(x, 2), std::out_of_range);
}
