// tests/tensor/test_safetensors.cpp — safetensors round trip and every kind of bad file.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "tensor/atomic_file.hpp"
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

// A file from a header text and a data section, as another writer (or an attacker) makes it.
std::string file_from(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>(header.size() >> (8 * i));
  return out + header + data;
}

// The byte offset of the data section in a file.
std::size_t data_start(const std::string& bytes) {
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return 8 + static_cast<std::size_t>(n);
}

}  // namespace

TEST_CASE("safetensors: round trip keeps names, order, shapes, values and metadata", "[tensor][safetensors]") {
  const std::string path = temp_path("rt.safetensors");
  save_safetensors(path, sample_tensors());
  // The temporary is per process ("<path>.tmp.<pid>") and was renamed away.
  REQUIRE(atomic_temp_path(path) == path + ".tmp." + std::to_string(::getpid()));
  REQUIRE(!std::ifstream(atomic_temp_path(path)).good());
  NamedTensors back = load_safetensors(path);
  REQUIRE(back.f32.size() == 2);
  REQUIRE(back.f32[0].first == "layer.weight");  // writer order, not alphabetical
  REQUIRE(back.f32[1].first == "a_bias");
  REQUIRE(back.f32[0].second.shape() == Shape{2, 3});
  REQUIRE(back.f32[0].second[5] == 6.0f);
  REQUIRE(back.get_f32("a_bias")[2] == 7.25f);
  REQUIRE(back.f64.at(0).second.item() == 42.0);
  REQUIRE(back.metadata.at("rng") == "1 2 3");
  REQUIRE(back.metadata.count(kDataCrc32Key) == 0);  // the checksum is the reader's, not the caller's
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

TEST_CASE("safetensors: a directory, FIFO or device is refused from its stat, without blocking",
          "[tensor][safetensors]") {
  const std::string dir = temp_path("a_dir");
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  REQUIRE_THROWS_WITH(load_safetensors(dir), Catch::Contains(dir) && Catch::Contains("is a directory"));
  ::rmdir(dir.c_str());
  // Opening a FIFO without a writer blocks forever: this test would hang before the fix.
  const std::string fifo = temp_path("a_fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  REQUIRE_THROWS_WITH(load_safetensors(fifo), Catch::Contains(fifo) && Catch::Contains("is a FIFO"));
  std::remove(fifo.c_str());
  REQUIRE_THROWS_WITH(load_safetensors("/dev/zero"), Catch::Contains("is a character device"));
}

TEST_CASE("safetensors: every save stores a crc32 of the data section; a flipped bit is reported",
          "[tensor][safetensors]") {
  const std::string path = temp_path("crc.safetensors");
  save_safetensors(path, sample_tensors());
  const std::string bytes = read_file(path);
  const std::size_t data_at = data_start(bytes);
  // The recorded value is zlib's crc32 of exactly the data section.
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, data_at - 8));
  const std::string data = bytes.substr(data_at);
  char want[16];
  std::snprintf(want, sizeof want, "%08lx",
                ::crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  REQUIRE(header["__metadata__"][kDataCrc32Key] == want);

  std::string flipped = bytes;
  flipped[data_at + 13] = static_cast<char>(flipped[data_at + 13] ^ 0x04);  // one bit of 'layer.weight'
  write_file(path, flipped);
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) && Catch::Contains("checksum mismatch") &&
                                                  Catch::Contains("the file is corrupt"));
  std::string last = bytes;
  last.back() = static_cast<char>(last.back() ^ 0x80);  // the last byte (the F64 tensor)
  REQUIRE_THROWS_WITH(parse_safetensors(reinterpret_cast<const std::uint8_t*>(last.data()), last.size(), "mem"),
                      Catch::Contains("checksum mismatch"));
  std::string bad_crc = bytes;
  bad_crc.replace(bad_crc.find(want), 8, "zz345678");
  write_file(path, bad_crc);
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains("not 8 hexadecimal digits"));
  std::remove(path.c_str());
}

TEST_CASE("safetensors: files without a checksum (written before it existed) still load", "[tensor][safetensors]") {
  const std::string data = std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);  // 1.0f, 2.0f
  const std::string header =
      R"({"__metadata__":{"flowzoo.step":"3"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string path = temp_path("old.safetensors");
  write_file(path, file_from(header, data));
  NamedTensors t = load_safetensors(path);
  REQUIRE(t.get_f32("w")[1] == 2.0f);
  REQUIRE(t.metadata.at("flowzoo.step") == "3");
  std::remove(path.c_str());
}

TEST_CASE("safetensors: bytes from the file never reach a message raw", "[tensor][safetensors]") {
  auto message = [](const std::string& file) {
    try {
      parse_safetensors(reinterpret_cast<const std::uint8_t*>(file.data()), file.size(), "mem");
    } catch (const SafetensorsError& e) {
      return std::string(e.what());
    }
    FAIL("expected a SafetensorsError");
    return std::string();
  };
  // A terminal escape in a tensor name and a bell in its dtype (JSON escapes, so valid JSON).
  const std::string m1 = message(file_from(R"({"\u001b[2J":{"dtype":"I8\u0007","shape":[1],"data_offsets":[0,1]}})", "x"));
  CHECK(m1.find('\x1b') == std::string::npos);
  CHECK(m1.find('\x07') == std::string::npos);
  CHECK(m1.find("\\x1b[2J") != std::string::npos);
  // A header that is not JSON: the position is given, not the bytes around it.
  const std::string m2 = message(file_from("{\x1b]0;pwned\x07 garbage", ""));
  CHECK(m2.find('\x1b') == std::string::npos);
  CHECK(m2.find("pwned") == std::string::npos);
  CHECK(m2.find("not valid JSON (syntax error at byte") != std::string::npos);
}

TEST_CASE("safetensors: inputs found by fuzzing give a SafetensorsError", "[tensor][safetensors][fuzz]") {
  // A shape dimension of 1002450E9000: valid JSON syntax, but nlohmann threw out_of_range
  // (not parse_error) and the exception escaped the reader.
  const std::string bytes = read_file(std::string(FZ_FUZZ_REGRESSIONS) + "/safetensors_number_overflow.bin");
  REQUIRE(bytes.size() > 8);
  REQUIRE_THROWS_MATCHES(parse_safetensors(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "fuzzed"),
                         SafetensorsError, Catch::Message("safetensors file 'fuzzed': header is not valid JSON (a number "
                                                          "out of range): corrupt or not a safetensors file"));
}
