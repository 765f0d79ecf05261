// fuzz/fuzz_image.cpp — libFuzzer target for the image folder's per-file decode path
// (fz::decode_image: magic-byte format check, stbi_info header, pixel budget, stb_image decode,
// channel conversion, resize and center crop). The first input byte picks the channel count
// (1-4) and whether to resize to 8x8; the rest is the file. The pixel budget is lowered to
// 65,536 pixels: the budget check itself is exercised all the same, and decoding plus
// resizing a budget-sized image stays fast under ASan (at 1 megapixel one input took over a
// minute, which starved the search). Any input must decode or throw fz::DatasetError.
#include <cstddef>
#include <cstdint>

#include "datasets/error.hpp"
#include "datasets/image_folder.hpp"

constexpr std::size_t kBudget = 65536;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int channels = data[0] % 4 + 1;
  const int side = (data[0] & 0x10) ? 8 : 0;
  try {
    fz::TensorU8 img = fz::decode_image(data + 1, size - 1, "fuzz-input", channels, side, side, kBudget);
    if (img.dim() != 3 || img.size(0) != static_cast<std::size_t>(channels)) __builtin_trap();
    if (side && (img.size(1) != 8 || img.size(2) != 8)) __builtin_trap();
    if (img.size(1) * img.size(2) > kBudget) __builtin_trap();
  } catch (const fz::DatasetError&) {
  }
  return 0;
}
