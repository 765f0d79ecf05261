// datasets/idx.cpp — IDX parsing with every header field validated against the data.
#include "datasets/idx.hpp"

#include <cstring>
#include <limits>

#include "datasets/file_bytes.hpp"

namespace fz {

namespace {

std::string hex_byte(unsigned v) {
  const char* d = "0123456789abcdef";
  return std::string("0x") + d[(v >> 4) & 15] + d[v & 15];
}

}  // namespace

IdxArray parse_idx(const std::uint8_t* bytes, std::size_t size, const std::string& name,
                   std::size_t max_bytes) {
  if (size < 4)
    throw DatasetError(name, "truncated IDX header (" + std::to_string(size) + " bytes, need at least 4)");
  if (bytes[0] != 0 || bytes[1] != 0)
    throw DatasetError(name, "wrong magic number " + hex_byte(bytes[0]) + hex_byte(bytes[1]).substr(2) +
                                 hex_byte(bytes[2]).substr(2) + hex_byte(bytes[3]).substr(2) +
                                 " (an IDX file starts with two zero bytes; is this an IDX file?)");
  if (bytes[2] != 0x08)
    throw DatasetError(name, "unsupported IDX data type " + hex_byte(bytes[2]) +
                                 " (only 0x08, unsigned byte, is supported)");
  std::size_t ndim = bytes[3];
  if (ndim == 0 || ndim > 4)
    throw DatasetError(name, "IDX header has " + std::to_string(ndim) + " dimensions (expected 1 to 4)");
  std::size_t header = 4 + 4 * ndim;
  if (size < header)
    throw DatasetError(name, "truncated IDX header (" + std::to_string(size) + " bytes, the " +
                                 std::to_string(ndim) + "-d header needs " + std::to_string(header) + ")");
  IdxArray out;
  out.dims.resize(ndim);
  std::size_t total = 1;
  bool overflow = false;
  std::string dims_str;
  for (std::size_t d = 0; d < ndim; ++d) {
    const std::uint8_t* p = bytes + 4 + 4 * d;
    std::size_t v = (std::size_t(p[0]) << 24) | (std::size_t(p[1]) << 16) | (std::size_t(p[2]) << 8) | p[3];
    out.dims[d] = v;
    dims_str += (d ? " x " : "") + std::to_string(v);
    if (v != 0 && total > std::numeric_limits<std::size_t>::max() / v) overflow = true;
    total *= v;
  }
  if (overflow || total > max_bytes)
    throw DatasetError(name, "IDX header dimensions " + dims_str + " would need " +
                                 (overflow ? std::string("more than 2^64 bytes") : human_bytes(total)) +
                                 ", above the limit of " + human_bytes(max_bytes));
  std::size_t have = size - header;
  if (have < total)
    throw DatasetError(name, "truncated data: header dimensions " + dims_str + " need " + std::to_string(total) +
                                 " bytes after the header but the file has " + std::to_string(have));
  if (have > total)
    throw DatasetError(name, "file size disagrees with the header: dimensions " + dims_str + " need " +
                                 std::to_string(total) + " bytes after the header but the file has " +
                                 std::to_string(have));
  out.data.assign(bytes + header, bytes + header + total);
  return out;
}

IdxArray read_idx(const std::string& path, std::size_t max_bytes) {
  // The IDX header adds at most 20 bytes to the payload limit.
  std::vector<std::uint8_t> bytes = read_file_bytes(path, max_bytes + 20);
  return parse_idx(bytes.data(), bytes.size(), path, max_bytes);
}

TensorU8 idx_to_images(const IdxArray& idx, const std::string& name, bool transpose) {
  if (idx.dims.size() != 3)
    throw DatasetError(name, "expected an IDX images file with 3 dimensions (N x H x W), found " +
                                 std::to_string(idx.dims.size()));
  std::size_t n = idx.dims[0], h = idx.dims[1], w = idx.dims[2];
  if (n == 0 || h == 0 || w == 0) throw DatasetError(name, "IDX images file holds no pixels (a dimension is 0)");
  if (!transpose) {
    TensorU8 t = TensorU8::empty({n, 1, h, w});
    std::memcpy(t.data(), idx.data.data(), idx.data.size());
    return t;
  }
  TensorU8 t = TensorU8::empty({n, 1, w, h});
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* src = idx.data.data() + i * h * w;
    std::uint8_t* dst = t.data() + i * h * w;
    for (std::size_t r = 0; r < h; ++r)
      for (std::size_t c = 0; c < w; ++c) dst[c * h + r] = src[r * w + c];
  }
  return t;
}

TensorU8 read_idx_images(const std::string& path, bool transpose, std::size_t max_bytes) {
  return idx_to_images(read_idx(path, max_bytes), path, transpose);
}

std::vector<std::int32_t> idx_to_labels(const IdxArray& idx, const std::string& name) {
  if (idx.dims.size() != 1)
    throw DatasetError(name, "expected an IDX labels file with 1 dimension, found " +
                                 std::to_string(idx.dims.size()));
  return std::vector<std::int32_t>(idx.data.begin(), idx.data.end());
}

std::vector<std::int32_t> read_idx_labels(const std::string& path, std::size_t max_bytes) {
  return idx_to_labels(read_idx(path, max_bytes), path);
}

}  // namespace fz
