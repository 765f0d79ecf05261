// tensor/safetensors.hpp — reading and writing named tensors in the safetensors format, the
// checkpoint format PyTorch and NumPy users can read:
//   [8 bytes: little-endian u64 N][N bytes: JSON header][raw little-endian tensor data]
// The header maps each name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into
// the data section) and may hold "__metadata__": {string: string}.
//
// Writing is atomic: the file is written to "<path>.tmp", flushed to disk and renamed over
// <path>, so a process killed at any moment leaves either the old or the new file, never a
// torn one. Reading validates everything against the file (sizes, offsets, dtypes, overlaps)
// and throws SafetensorsError naming the file and the problem.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.hpp"

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

void save_safetensors(const std::string& path, const NamedTensors& tensors);
NamedTensors load_safetensors(const std::string& path);

}  // namespace fz
