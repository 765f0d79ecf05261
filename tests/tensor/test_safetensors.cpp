// tests/tensor/test_safetensors.cpp — safetensors round trip and every kind of bad file.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include <unistd.h>

#include "tensor/safetensors.hpp"

using namespace fz;

namespace {

std::string temp_path(const std::string& name) {
  return "/tmp/fz_test_st_" + std::to_string(::getpid()) + "_" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

NamedTensors sample_tensors() {
  NamedTensors t;
  t.f32.emplace_back("layer.weight", Tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6}));
  t.f32.emplace_back("a_bias", Tensor<float>({3}, {-1.5f, 0.f, 7.25f}));
  t.f64.emplace_back("step", Tensor<double>(Shape{}, 42.0));
  t.metadata["format"] = "flowzoo";
  t.metadata["rng"] = "1 2 3";
  return t;
}

}  // namespace

TEST_CASE("safetensors: round trip keeps names, order, shapes, values and metadata", "[tensor][safetensors]") {
  const std::string path = temp_path("rt.safetensors");
  save_safetensors(path, sample_tensors());
  REQUIRE(!std::ifstream(path + ".tmp").good());  // the temporary was renamed away
  NamedTensors back = load_safetensors(path);
  REQUIRE(back.f32.size() == 2);
  REQUIRE(back.f32[0].first == "layer.weight");  // writer order, not alphabetical
  REQUIRE(back.f32[1].first == "a_bias");
  REQUIRE(back.f32[0].second.shape() == Shape{2, 3});
  REQUIRE(back.f32[0].second[5] == 6.0f);
  REQUIRE(back.get_f32("a_bias")[2] == 7.25f);
  REQUIRE(back.f64.at(0).second.item() == 42.0);
  REQUIRE(back.metadata.at("rng") == "1 2 3");
  REQUIRE_THROWS_WITH(back.get_f32("nope"), Catch::Contains("'nope'"));
  // Layout: 8-byte little-endian header length, then JSON starting with '{'.
  const std::string bytes = read_file(path);
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  REQUIRE(bytes[8] == '{');
  REQUIRE(bytes.size() == 8 + n + 6 * 4 + 3 * 4 + 8);
  std::remove(path.c_str());
}

TEST_CASE("safetensors: bad files give errors naming the file and the problem", "[tensor][safetensors]") {
  const std::string good = temp_path("good.safetensors");
  save_safetensors(good, sample_tensors());
  const std::string bytes = read_file(good);
  const std::string bad = temp_path("bad.safetensors");

  REQUIRE_THROWS_WITH(load_safetensors(temp_path("missing")), Catch::Contains("cannot open"));
  write_file(bad, bytes.substr(0, 5));
  REQUIRE_THROWS_WITH(load_safetensors(bad), Catch::Contains("truncated") && Catch::Contains(bad));
  write_file(bad, bytes.substr(0, bytes.size() - 10));
  REQUIRE_THROWS_WITH(load_safetensors(bad), Catch::Contains("outside"));
  std::string huge = bytes;
  huge[7] = '\x7f';  // header length ~ 2^62
  write_file(bad, huge);
  REQUIRE_THROWS_WITH(load_safetensors(bad), Catch::Contains("does not fit"));
  std::string garbage = bytes;
  garbage[8] = 'x';
  write_file(bad, garbage);
  REQUIRE_THROWS_WITH(load_safetensors(bad), Catch::Contains("not valid JSON"));
  std::string wrong_dtype = bytes;
  wrong_dtype.replace(wrong_dtype.find("F32"), 3, "I64");
  write_file(bad, wrong_dtype);
  REQUIRE_THROWS_WITH(load_safetensors(bad), Catch::Contains("unsupported dtype"));
  std::string wrong_shape = bytes;
  wrong_shape.replace(wrong_shape.find("[2,3]"), 5, "[3,3]");
  write_file(bad, wrong_shape);
  REQUIRE_THROWS_WITH(load_safetensors(bad), Catch::Contains("needs 36 bytes"));
  std::remove(good.c_str());
  std::remove(bad.c_str());
}

TEST_CASE("safetensors: an unwritable destination fails cleanly and leaves the old file", "[tensor][safetensors]") {
  const std::string path = temp_path("keep.safetensors");
  save_safetensors(path, sample_tensors());
  REQUIRE_THROWS_AS(save_safetensors("/nonexistent-dir/x.safetensors", sample_tensors()), SafetensorsError);
  REQUIRE(load_safetensors(path).f32.size() == 2);
  std::remove(path.c_str());
}
