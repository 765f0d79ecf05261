// tensor/safetensors.hpp — reading and writing named tensors in the safetensors format, the
// checkpoint format PyTorch and NumPy users can read:
//   [8 bytes: little-endian u64 N][N bytes: JSON header][raw little-endian tensor data]
// The header maps each name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into
// the data section) and may hold "__metadata__": {string: string}.
//
// Writing is atomic: the file is written to "<path>.tmp.<pid>" (one temporary per process, so
// two writers never share one), flushed to disk and renamed over <path>, so a process killed
// at any moment leaves either the old or the new file, never a torn one. Every save records
// the zlib crc32 of the data section in the metadata (key kDataCrc32Key, 8 hex digits);
// loading verifies it when present (files from before the checksum have none and still load),
// so a flipped bit in the tensors is reported instead of loaded.
//
// Reading validates everything against the file (sizes, offsets, dtypes, overlaps, checksum)
// and throws SafetensorsError naming the file and the problem. Only regular files are read: a
// directory, FIFO, device or socket is refused from its stat() before anything could block.
// Names and values from the file are passed through printable() before they reach a message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tensor.hpp"

namespace fz {

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct NamedTensors {
  std::vector<std::pair<std::string, Tensor<float>>> f32;
  std::vector<std::pair<std::string, Tensor<double>>> f64;
  std::map<std::string, std::string> metadata;

  // Looks a float32 tensor up by name; throws SafetensorsError naming it if absent.
  const Tensor<float>& get_f32(const std::string& name) const;
  bool has_f32(const std::string& name) const;
};

// Metadata key of the data section's checksum (written by save, checked and removed by load).
inline constexpr const char* kDataCrc32Key = "data_crc32";

void save_safetensors(const std::string& path, const NamedTensors& tensors);
NamedTensors load_safetensors(const std::string& path);
// The same reader on a buffer holding a whole file; `name` stands for the path in messages.
NamedTensors parse_safetensors(const std::uint8_t* bytes, std::size_t size, const std::string& name);

}  // namespace fz
