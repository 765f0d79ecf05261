// fuzz/fuzz_safetensors.cpp — libFuzzer target for the checkpoint reader: the safetensors
// parser (header length, JSON header, entries, offsets, overlaps, the data checksum) and then,
// for files that parse, the validation of flowzoo's checkpoint metadata (configuration, step,
// wall-clock seconds, RNG state). Any input must either load or throw the reader's own error
// type: no crash, no out-of-bounds access (ASan), no undefined behaviour (UBSan), no huge
// allocation (-malloc_limit_mb), and no exception of another type escaping (a library's text
// reaching the user).
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "cli/checkpoint_metadata.hpp"
#include "tensor/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::NamedTensors t;
  try {
    t = fz::parse_safetensors(data, size, "fuzz-input");
  } catch (const fz::SafetensorsError&) {
    return 0;
  }
  for (const auto& e : t.f32)
    if (e.second.nbytes() != e.second.numel() * 4) __builtin_trap();
  if (t.metadata.count(fz::kDataCrc32Key)) __builtin_trap();  // the reader consumes the checksum
  try {
    fz::cli::CheckpointInfo info = fz::cli::checkpoint_info_from_metadata(t.metadata, "fuzz-input");
    if (info.wall_seconds < 0 || info.step > 1'000'000'000'000ull) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
