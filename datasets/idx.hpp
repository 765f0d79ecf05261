// datasets/idx.hpp — the IDX file format (MNIST, Fashion-MNIST, KMNIST, EMNIST).
//
// An IDX file is: two zero bytes, a dtype byte (0x08 = unsigned byte, the only type image
// datasets use), a byte giving the number of dimensions, one big-endian uint32 per dimension,
// then the data in row-major order. Files may be raw or gzip-compressed. The parser checks the
// header against the actual data size before allocating anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"
#include "../tensor/tensor.hpp"

namespace fz {

struct IdxArray {
  std::vector<std::size_t> dims;   // from the header
  std::vector<std::uint8_t> data;  // product(dims) bytes, row-major
};

// Parses a decompressed IDX buffer. `name` (usually the file path) appears in error messages.
// Throws DatasetError on a wrong magic, an unsupported dtype, zero or more than 4 dimensions,
// a size that disagrees with the buffer, or a size above max_bytes.
IdxArray parse_idx(const std::uint8_t* bytes, std::size_t size, const std::string& name,
                   std::size_t max_bytes = kMaxDatasetBytes);

// Reads and parses an IDX file, raw or gzip.
IdxArray read_idx(const std::string& path, std::size_t max_bytes = kMaxDatasetBytes);

// Images file (3-D: N x H x W) as a (N, 1, H, W) tensor. With `transpose` each image is
// transposed (EMNIST stores images column-major).
TensorU8 read_idx_images(const std::string& path, bool transpose = false,
                         std::size_t max_bytes = kMaxDatasetBytes);
TensorU8 idx_to_images(const IdxArray& idx, const std::string& name, bool transpose = false);

// Labels file (1-D: N) as int32 labels.
std::vector<std::int32_t> read_idx_labels(const std::string& path, std::size_t max_bytes = kMaxDatasetBytes);
std::vector<std::int32_t> idx_to_labels(const IdxArray& idx, const std::string& name);

}  // namespace fz
