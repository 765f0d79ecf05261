// tests/tensor/test_tensor.cpp — Tensor construction, access, reshape sharing, clone.
#include <catch2/catch.hpp>

#include "tensor/tensor.hpp"

using namespace fz;

TEST_CASE("tensor: construction fills and counts elements", "[tensor]") {
  Tensor32 z({2, 3, 4});
  REQUIRE(z.numel() == 24);
  REQUIRE(z.dim() == 3);
  REQUIRE(z.size(-1) == 4);
  for (float v : z) REQUIRE(v == 0.0f);
  Tensor64 f({2, 2}, 1.5);
  REQUIRE(f[3] == 1.5);
  Tensor64 s = Tensor64::scalar(2.0);
  REQUIRE(s.dim() == 0);
  REQUIRE(s.numel() == 1);
  REQUIRE(s.item() == 2.0);
  REQUIRE(!Tensor64().defined());
}

TEST_CASE("tensor: values are row-major and at() checks bounds", "[tensor]") {
  Tensor64 t({2, 3}, {0, 1, 2, 3, 4, 5});
  REQUIRE(t.at({1, 0}) == 3.0);
  REQUIRE(t.at({0, 2}) == 2.0);
  REQUIRE_THROWS_WITH(t.at({2, 0}), Catch::Contains("index 2 on axis 0"));
  REQUIRE_THROWS_AS(t.at({0}), std::out_of_range);
  REQUIRE_THROWS_WITH(Tensor64({2, 2}, {1, 2, 3}), Catch::Contains("needs 4 values, got 3"));
  REQUIRE_THROWS(t.item());
}

TEST_CASE("tensor: reshape shares the buffer, clone does not", "[tensor]") {
  Tensor32 t({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor32 r = t.reshape({3, 2});
  REQUIRE(r.shares_storage_with(t));
  r[0] = 42.0f;
  REQUIRE(t[0] == 42.0f);
  Tensor32 c = t.clone();
  REQUIRE(!c.shares_storage_with(t));
  c[1] = -1.0f;
  REQUIRE(t[1] == 1.0f);
  REQUIRE_THROWS_WITH(t.reshape({4, 2}), Catch::Contains("(2, 3)"));
}

TEST_CASE("tensor: buffers are 64-byte aligned for SIMD", "[tensor]") {
  for (std::size_t n : {1u, 7u, 1000u}) {
    Tensor32 t({n});
    REQUIRE(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  }
}

TEST_CASE("tensor: cast converts every element", "[tensor]") {
  TensorU8 u({3}, {0, 128, 255});
  Tensor32 f = u.cast<float>();
  REQUIRE(f[1] == 128.0f);
  REQUIRE(f[2] == 255.0f);
}

TEST_CASE("shape: helpers", "[tensor]") {
  REQUIRE(shape_numel({}) == 1);
  REQUIRE(shape_numel({2, 0, 3}) == 0);
  REQUIRE(row_major_strides({2, 3, 4}) == std::vector<std::size_t>{12, 4, 1});
  REQUIRE(shape_str({2, 3}) == "(2, 3)");
  REQUIRE(normalize_axis(-1, 3) == 2);
  REQUIRE_THROWS_AS(normalize_axis(3, 3), std::out_of_range);
}
