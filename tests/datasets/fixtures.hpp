// tests/datasets/fixtures.hpp — helpers for dataset tests: a self-deleting temp folder,
// gzip writing, IDX/CIFAR byte builders, and a matcher for DatasetError messages.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ftw.h>
#include <string>
#include <sys/stat.h>
#include <vector>
#include <zlib.h>

#include "datasets/error.hpp"
#include "datasets/file_bytes.hpp"

namespace fzt {

using Bytes = std::vector<std::uint8_t>;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/fz_datasets_test_XXXXXX";
    char* p = ::mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path_ = p;
  }
  ~TempDir() {
    ::nftw(path_.c_str(), [](const char* f, const struct stat*, int, struct FTW*) { return ::remove(f); }, 16,
           FTW_DEPTH | FTW_PHYS);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  std::string mkdir(const std::string& name) const {
    std::string p = path_ + "/" + name;
    ::mkdir(p.c_str(), 0755);
    return p;
  }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const Bytes& b) { fz::write_file_bytes(path, b.data(), b.size()); }

// gzip-compresses with zlib (windowBits 31 = gzip wrapper).
inline Bytes gzip_bytes(const Bytes& in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// An IDX unsigned-byte file: header for `dims` followed by `data`.
inline Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& data) {
  Bytes b = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) {
    b.push_back(static_cast<std::uint8_t>(d >> 24));
    b.push_back(static_cast<std::uint8_t>(d >> 16));
    b.push_back(static_cast<std::uint8_t>(d >> 8));
    b.push_back(static_cast<std::uint8_t>(d));
  }
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

// A deterministic pseudo-random pixel pattern.
inline Bytes pattern(std::size_t n, std::uint32_t salt) {
  Bytes b(n);
  std::uint32_t s = 2463534242u ^ salt;
  for (auto& v : b) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    v = static_cast<std::uint8_t>(s >> 7);
  }
  return b;
}

// Runs f, requires a fz::DatasetError whose message contains every fragment.
template <typename F>
void require_dataset_error(F&& f, const std::vector<std::string>& fragments) {
  try {
    f();
  } catch (const fz::DatasetError& e) {
    std::string msg = e.what();
    INFO("message: " << msg);
    for (const auto& frag : fragments) {
      INFO("expected fragment: " << frag);
      CHECK(msg.find(frag) != std::string::npos);
    }
    return;
  }
  FAIL("expected a fz::DatasetError");
}

}  // namespace fzt
