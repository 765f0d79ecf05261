// tests/picture_ink.hpp — how the picture tests tell that something was drawn in a region:
// they count the pixels that are not white (text, lines, markers) in a rectangle.
#pragma once

#include <algorithm>
#include <cstddef>

#include "tensor/tensor.hpp"

namespace fz::test {

// Pixels of a (3, H, W) picture in [x0, x1) x [y0, y1) that are not white (any channel < 250);
// the rectangle is clipped to the picture.
inline std::size_t inked(const TensorU8& img, int x0, int y0, int x1, int y1) {
  const int h = static_cast<int>(img.shape()[1]), w = static_cast<int>(img.shape()[2]);
  const std::size_t n = img.shape()[1] * img.shape()[2];
  std::size_t count = 0;
  for (int y = std::max(0, y0); y < std::min(y1, h); ++y)
    for (int x = std::max(0, x0); x < std::min(x1, w); ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + x;
      count += img[i] < 250 || img[n + i] < 250 || img[2 * n + i] < 250;
    }
  return count;
}

}  // namespace fz::test
