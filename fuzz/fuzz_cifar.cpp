// fuzz/fuzz_cifar.cpp — libFuzzer target for the CIFAR-10/100 batch parser (after optional
// gzip inflation). The first input byte picks CIFAR-10, CIFAR-100 fine or CIFAR-100 coarse.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "datasets/cifar.hpp"
#include "datasets/error.hpp"
#include "datasets/file_bytes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const fz::CifarKind kind = mode == 0 ? fz::CifarKind::Cifar10 : fz::CifarKind::Cifar100;
  try {
    std::vector<std::uint8_t> bytes = fz::maybe_gunzip(std::vector<std::uint8_t>(data + 1, data + size), "fuzz-input");
    fz::ImageDataset d = fz::parse_cifar(bytes.data(), bytes.size(), kind, "fuzz-input", mode != 2);
    if (d.size() != d.labels.size() || d.images.numel() != d.size() * 3072) __builtin_trap();
    const int classes = mode == 0 ? 10 : mode == 1 ? 100 : 20;
    for (auto l : d.labels)
      if (l < 0 || l >= classes) __builtin_trap();
  } catch (const fz::DatasetError&) {
  }
  return 0;
}
