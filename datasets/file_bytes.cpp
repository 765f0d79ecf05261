// datasets/file_bytes.cpp — file reading and gzip decompression through zlib.
#include "datasets/file_bytes.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include <zlib.h>

namespace fz {

bool is_gzip(const std::uint8_t* data, std::size_t size) {
  return size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

std::string human_bytes(std::size_t n) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024.0 && u < 6) {
    v /= 1024.0;
    ++u;
  }
  char buf[64];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%zu bytes", n);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

namespace {

// RAII for a zlib inflate stream.
struct Inflater {
  z_stream zs{};
  bool ok = false;
  Inflater() { ok = inflateInit2(&zs, 15 + 16) == Z_OK; }  // 15+16: gzip wrapper only
  ~Inflater() {
    if (ok) inflateEnd(&zs);
  }
};

}  // namespace

std::vector<std::uint8_t> gunzip(const std::uint8_t* data, std::size_t size, const std::string& name,
                                 std::size_t max_bytes) {
  if (!is_gzip(data, size)) throw DatasetError(name, "not a gzip stream (missing magic bytes 1f 8b)");
  if (size < 18) throw DatasetError(name, "truncated gzip stream (" + std::to_string(size) + " bytes)");

  // Reserve from the trailer's ISIZE (uncompressed size mod 2^32) but never more than deflate's
  // maximum ratio (~1032:1) allows for this input or than max_bytes: a lying trailer cannot
  // make us allocate memory the data would not fill.
  std::size_t isize = std::size_t(data[size - 4]) | (std::size_t(data[size - 3]) << 8) |
                      (std::size_t(data[size - 2]) << 16) | (std::size_t(data[size - 1]) << 24);
  std::size_t ratio_cap = size > std::numeric_limits<std::size_t>::max() / 1100 ? max_bytes : size * 1100;
  std::vector<std::uint8_t> out;
  out.reserve(std::min({isize, ratio_cap, max_bytes}));

  Inflater inf;
  if (!inf.ok) throw DatasetError(name, "zlib inflateInit2 failed");
  std::size_t pos = 0;
  while (true) {
    // One gzip member; zlib's avail_in is 32-bit, so feed at most 1 GiB at a time.
    bool member_done = false;
    while (!member_done) {
      if (inf.zs.avail_in == 0) {
        std::size_t chunk = std::min<std::size_t>(size - pos, std::size_t(1) << 30);
        inf.zs.next_in = const_cast<Bytef*>(data + pos);
        inf.zs.avail_in = static_cast<uInt>(chunk);
        pos += chunk;
      }
      if (out.size() == out.capacity()) {
        if (out.size() >= max_bytes)
          throw DatasetError(name, "decompresses to more than the limit of " + human_bytes(max_bytes));
        std::size_t grow = std::max<std::size_t>(out.size(), std::size_t(1) << 16);
        out.reserve(std::min(out.size() + grow, max_bytes));
      }
      std::size_t before = out.size();
      std::size_t room = std::min<std::size_t>(out.capacity() - before, std::size_t(1) << 30);
      out.resize(before + room);  // zero-filling is cheap next to inflate
      inf.zs.next_out = out.data() + before;
      inf.zs.avail_out = static_cast<uInt>(room);
      int rc = inflate(&inf.zs, Z_NO_FLUSH);
      out.resize(before + (room - inf.zs.avail_out));
      if (rc == Z_STREAM_END) {
        member_done = true;
      } else if (rc == Z_DATA_ERROR) {
        throw DatasetError(name, std::string("corrupt gzip stream (") + (inf.zs.msg ? inf.zs.msg : "data error") + ")");
      } else if (rc == Z_MEM_ERROR) {
        throw DatasetError(name, "zlib ran out of memory while decompressing");
      } else if (rc == Z_BUF_ERROR || rc == Z_OK) {
        // All input consumed with output room left and no end marker: the stream is cut off.
        // (With no output room left we just grow the buffer and go round again.)
        if (inf.zs.avail_in == 0 && pos >= size && inf.zs.avail_out > 0)
          throw DatasetError(name, "truncated gzip stream (ends before the end-of-stream marker)");
      } else {
        throw DatasetError(name, "zlib error " + std::to_string(rc) + " while decompressing");
      }
    }
    // Another member follows? (concatenated gzip files are valid gzip.)
    std::size_t rest_at = pos - inf.zs.avail_in;
    if (rest_at >= size) break;
    if (is_gzip(data + rest_at, size - rest_at)) {
      inflateReset(&inf.zs);
      continue;
    }
    // Zero padding after the last member is tolerated (as gzip(1) does); anything else is not.
    for (std::size_t i = rest_at; i < size; ++i)
      if (data[i] != 0)
        throw DatasetError(name, "unexpected data after the end of the gzip stream at byte " + std::to_string(i));
    break;
  }
  out.shrink_to_fit();
  return out;
}

std::vector<std::uint8_t> maybe_gunzip(std::vector<std::uint8_t> bytes, const std::string& name,
                                       std::size_t max_bytes) {
  if (is_gzip(bytes.data(), bytes.size())) return gunzip(bytes.data(), bytes.size(), name, max_bytes);
  return bytes;
}

std::vector<std::uint8_t> read_file_raw(const std::string& path, std::size_t max_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw DatasetError(path, std::string("cannot open file (") + std::strerror(errno) + ")");
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  if (std::fseek(f, 0, SEEK_END) != 0)
    throw DatasetError(path, "cannot seek (not a regular file?)");
  long end = std::ftell(f);
  if (end < 0) throw DatasetError(path, "cannot determine the file size (not a regular file?)");
  std::size_t n = static_cast<std::size_t>(end);
  if (n > max_bytes)
    throw DatasetError(path, "file is " + human_bytes(n) + ", above the limit of " + human_bytes(max_bytes));
  std::fseek(f, 0, SEEK_SET);
  std::vector<std::uint8_t> bytes(n);
  if (n > 0 && std::fread(bytes.data(), 1, n, f) != n)
    throw DatasetError(path, std::string("read error (") + std::strerror(errno) + ")");
  return bytes;
}

std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::size_t max_bytes) {
  return maybe_gunzip(read_file_raw(path, max_bytes), path, max_bytes);
}

void write_file_bytes(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw DatasetError(path, std::string("cannot open for writing (") + std::strerror(errno) + ")");
  bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw DatasetError(path, "write error");
}

}  // namespace fz
