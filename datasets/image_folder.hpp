// datasets/image_folder.hpp — folders of PNG/JPEG/BMP (also GIF, PNM) images via stb_image.
//
// Every image is decoded to the requested channel count, then scaled so it covers the
// requested size and center-cropped to it (stb_image_resize), giving (C, H, W) uint8.
// Layout: `dir/<class>/<image>` gives labels from the sorted subfolder names; images in
// folders nested inside a class folder belong to that class (read recursively, sorted, at
// most kMaxFolderDepth levels down); images directly in `dir` are unlabelled (label -1).
// Decoding runs in parallel with TBB.
//
// Hostile files are refused before they cost memory: the format is recognised from the
// file's first bytes (its magic number), not from its name, so only formats that have one are
// read (PNG, JPEG, BMP, GIF, 8-bit binary PNM); TGA, which has none, is refused rather than
// guessed.
// The header's width and height are read first (stbi_info) and an image above the pixel
// budget (default kDefaultMaxImagePixels, 50 megapixels) is refused before it is decoded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"
#include "image_dataset.hpp"

namespace fz {

// Largest image decoded by default: 50 megapixels (width x height), about 200 MB as RGBA.
constexpr std::size_t kDefaultMaxImagePixels = 50'000'000;
// Class folders are read this many levels deep at most (deeper is refused: a symlink loop?).
constexpr int kMaxFolderDepth = 8;

struct ImageFolderOptions {
  int channels = 3;  // 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)
  int height = 0;    // 0 (with width 0): keep each image's size, which must then all agree
  int width = 0;
  std::size_t max_pixels = kDefaultMaxImagePixels;  // per image, from its header, before decoding
};

// The format named by the first bytes ("PNG", "JPEG", "BMP", "GIF", "PNM"), or nullptr when
// they are none of the formats read here.
const char* image_format_from_magic(const std::uint8_t* bytes, std::size_t size);

// Decodes an encoded image (PNG, JPEG, BMP, GIF or binary PNM, told apart by their magic bytes)
// to (channels, height, width); with height = width = 0 the native size is kept. `name`
// appears in error messages. Images with more than `max_pixels` pixels are refused from their
// header, before any pixel memory is allocated.
TensorU8 decode_image(const std::uint8_t* bytes, std::size_t size, const std::string& name, int channels,
                      int height = 0, int width = 0, std::size_t max_pixels = kDefaultMaxImagePixels);
TensorU8 read_image(const std::string& path, int channels, int height = 0, int width = 0,
                    std::size_t max_pixels = kDefaultMaxImagePixels);

// Scales a (C, H, W) image so that it covers (height, width), then crops the center.
TensorU8 resize_center_crop(const TensorU8& chw, int height, int width);

// True for the file extensions load_image_folder picks up (case-insensitive).
bool is_image_file_name(const std::string& name);

// All images under `dir` (see above). Throws DatasetError naming the folder when it is
// missing or has no images, and naming the file when one cannot be decoded.
ImageDataset load_image_folder(const std::string& dir, const ImageFolderOptions& options = {});

}  // namespace fz
