// datasets/image_folder.hpp — folders of PNG/JPEG/BMP (also GIF, TGA, PNM) images via stb_image.
//
// Every image is decoded to the requested channel count, then scaled so it covers the
// requested size and center-cropped to it (stb_image_resize), giving (C, H, W) uint8.
// Layout: `dir/<class>/<image>` gives labels from the sorted subfolder names; images directly
// in `dir` are unlabelled (label -1). Decoding runs in parallel with TBB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/error.hpp"
#include "datasets/image_dataset.hpp"

namespace fz {

struct ImageFolderOptions {
  int channels = 3;  // 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)
  int height = 0;    // 0 (with width 0): keep each image's size, which must then all agree
  int width = 0;
};

// Decodes an encoded image (any format stb_image reads) to (channels, height, width); with
// height = width = 0 the native size is kept. `name` appears in error messages.
TensorU8 decode_image(const std::uint8_t* bytes, std::size_t size, const std::string& name, int channels,
                      int height = 0, int width = 0);
TensorU8 read_image(const std::string& path, int channels, int height = 0, int width = 0);

// Scales a (C, H, W) image so that it covers (height, width), then crops the center.
TensorU8 resize_center_crop(const TensorU8& chw, int height, int width);

// True for the file extensions load_image_folder picks up (case-insensitive).
bool is_image_file_name(const std::string& name);

// All images under `dir` (see above). Throws DatasetError naming the folder when it is
// missing or has no images, and naming the file when one cannot be decoded.
ImageDataset load_image_folder(const std::string& dir, const ImageFolderOptions& options = {});

}  // namespace fz
