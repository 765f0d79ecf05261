// tests/tensor/test_xtensor_view.cpp — Tensor<T> <-> xtensor (tensor/xtensor_view.hpp): views
// alias the tensor's buffer and carry its shape; a Tensor built from an expression owns fresh
// storage and equals what the elementwise kernels compute.
#include <catch2/catch.hpp>

#include <cmath>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "tensor/elementwise.hpp"
#include "tensor/random.hpp"
#include "tensor/xtensor_view.hpp"

using namespace fz;

TEMPLATE_TEST_CASE("xtensor_view: views alias the buffer and carry the shape", "[tensor][xtensor]",
                   float, double) {
  using T = TestType;
  Tensor<T> a({2, 3, 5});
  auto v = xview(a);
  REQUIRE(v.dimension() == 3);
  CHECK(v.shape()[0] == 2);
  CHECK(v.shape()[1] == 3);
  CHECK(v.shape()[2] == 5);
  CHECK(v.data() == a.data());  // zero-copy

  // Writes through the mutable view land in the tensor, row-major.
  v(1, 2, 4) = T(7);
  CHECK(a[1 * 15 + 2 * 5 + 4] == T(7));
  xt::view(v, 0, xt::all(), 1) = T(-2);  // a[0, :, 1] = -2
  for (std::size_t j = 0; j < 3; ++j) CHECK(a.at({0, j, 1}) == T(-2));
  CHECK(a.at({0, 0, 0}) == T(0));

  // Writes into the tensor show through a const view.
  a[3] = T(5);
  const Tensor<T>& ca = a;
  const auto cv = xview(ca);
  CHECK(cv(0, 0, 3) == T(5));
  CHECK(cv.data() == a.data());

  // 0-d and empty tensors.
  Tensor<T> s = Tensor<T>::scalar(T(3));
  CHECK(xview(s).dimension() == 0);
  CHECK(xview(s)() == T(3));
  Tensor<T> e({4, 0});
  CHECK(xview(e).size() == 0);
  const Tensor<T> undefined;
  CHECK_THROWS_AS(xview(undefined), std::invalid_argument);
}

TEMPLATE_TEST_CASE("xtensor_view: a Tensor from an expression equals the elementwise kernels",
                   "[tensor][xtensor]", float, double) {
  using T = TestType;
  Rng rng(14);
  const Tensor<T> a = rng.normal<T>({3, 17});
  const Tensor<T> b = rng.normal<T>({17});  // broadcast over the rows

  const Tensor<T> y(T(2) * xview(a) + xt::exp(xview(b)));
  const Tensor<T> expected = add(mul_scalar(a, 2.0), exp(b));
  REQUIRE(y.shape() == Shape{3, 17});
  const double tol = sizeof(T) == 4 ? 1e-6 : 1e-14;
  for (std::size_t i = 0; i < y.numel(); ++i)
    CHECK(std::abs(double(y[i]) - double(expected[i])) <= tol * (1 + std::abs(double(expected[i]))));

  // Fresh storage: changing an input afterwards does not change y.
  CHECK(!y.shares_storage_with(a));
  Tensor<T> a2 = a.clone();
  const Tensor<T> z(xview(a2) * T(1));
  a2.fill(T(100));
  CHECK(z[0] == a[0]);

  // A reduction expression gives its reduced shape; a 0-d one a scalar tensor.
  const Tensor<T> row_sums(xt::sum(xview(a), {1}));
  CHECK(row_sums.shape() == Shape{3});
  const Tensor<T> total(xt::sum(xview(a)));
  CHECK(total.shape() == Shape{});
}
