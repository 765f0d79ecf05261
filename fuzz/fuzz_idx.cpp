// fuzz/fuzz_idx.cpp — libFuzzer target for the IDX reader: gzip detection and inflation,
// header parsing and conversion to images or labels, with the library's default limits.
// Any input must either parse or throw fz::DatasetError: no crash, no out-of-bounds access
// (ASan), no undefined behaviour (UBSan), no huge allocation (-malloc_limit_mb).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "datasets/error.hpp"
#include "datasets/file_bytes.hpp"
#include "datasets/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    std::vector<std::uint8_t> bytes = fz::maybe_gunzip(std::vector<std::uint8_t>(data, data + size), "fuzz-input");
    fz::IdxArray a = fz::parse_idx(bytes.data(), bytes.size(), "fuzz-input");
    if (a.dims.size() == 3) {
      fz::TensorU8 t = fz::idx_to_images(a, "fuzz-input", (size & 1) != 0);
      if (t.numel() != a.data.size()) __builtin_trap();
    } else if (a.dims.size() == 1) {
      std::vector<std::int32_t> labels = fz::idx_to_labels(a, "fuzz-input");
      if (labels.size() != a.dims[0]) __builtin_trap();
    }
  } catch (const fz::DatasetError&) {
  }
  return 0;
}
