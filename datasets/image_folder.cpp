// datasets/image_folder.cpp — decoding, resizing and folder scanning.
#include "datasets/image_folder.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>

#include <dirent.h>
#include <sys/stat.h>

#include <stb_image.h>
#include <stb_image_resize.h>

#include "datasets/file_bytes.hpp"
#include "tensor/parallel.hpp"

namespace fz {

namespace {

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Sorted entry names of a directory, without "." and "..", hidden files skipped.
std::vector<std::string> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw DatasetError(dir, std::string("cannot open folder (") + std::strerror(errno) + ")");
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.empty() || n[0] == '.') continue;
    names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

void check_channels(int channels, const std::string& name) {
  if (channels < 1 || channels > 4)
    throw DatasetError(name, "requested " + std::to_string(channels) + " channels (must be 1 to 4)");
}

}  // namespace

bool is_image_file_name(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const char* kExts[] = {"png", "jpg", "jpeg", "bmp", "gif", "tga", "ppm", "pgm", "pnm"};
  for (const char* e : kExts)
    if (ext == e) return true;
  return false;
}

TensorU8 resize_center_crop(const TensorU8& chw, int height, int width) {
  if (chw.dim() != 3) throw std::invalid_argument("resize_center_crop: expected (C, H, W), got " + shape_str(chw.shape()));
  if (height <= 0 || width <= 0)
    throw std::invalid_argument("resize_center_crop: target size must be positive, got " + std::to_string(height) +
                                "x" + std::to_string(width));
  const int c = static_cast<int>(chw.size(0)), h = static_cast<int>(chw.size(1)), w = static_cast<int>(chw.size(2));
  if (h == height && w == width) return chw;
  // Scale so the image covers the target, then take the centered window.
  double s = std::max(double(height) / h, double(width) / w);
  int sh = std::max(height, static_cast<int>(std::lround(h * s)));
  int sw = std::max(width, static_cast<int>(std::lround(w * s)));
  // stb works on interleaved HWC.
  std::vector<std::uint8_t> hwc(static_cast<std::size_t>(h) * w * c), scaled(static_cast<std::size_t>(sh) * sw * c);
  for (int k = 0; k < c; ++k)
    for (int i = 0; i < h * w; ++i) hwc[static_cast<std::size_t>(i) * c + k] = chw[static_cast<std::size_t>(k) * h * w + i];
  if (sh == h && sw == w)
    scaled = hwc;  // only a crop: keep the pixels exact
  else if (!stbir_resize_uint8(hwc.data(), w, h, 0, scaled.data(), sw, sh, 0, c))
    throw std::runtime_error("resize_center_crop: stb_image_resize failed");
  int y0 = (sh - height) / 2, x0 = (sw - width) / 2;
  TensorU8 out = TensorU8::empty({static_cast<std::size_t>(c), static_cast<std::size_t>(height),
                                  static_cast<std::size_t>(width)});
  for (int k = 0; k < c; ++k)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        out[(static_cast<std::size_t>(k) * height + y) * width + x] =
            scaled[(static_cast<std::size_t>(y + y0) * sw + (x + x0)) * c + k];
  return out;
}

TensorU8 decode_image(const std::uint8_t* bytes, std::size_t size, const std::string& name, int channels,
                      int height, int width) {
  check_channels(channels, name);
  if (size == 0) throw DatasetError(name, "unreadable image: the file is empty");
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw DatasetError(name, "unreadable image: file too large for stb_image");
  int w = 0, h = 0, n = 0;
  // Refuse absurd dimensions from the header before stb allocates the pixels.
  if (!stbi_info_from_memory(bytes, static_cast<int>(size), &w, &h, &n))
    throw DatasetError(name, std::string("unreadable image (") + stbi_failure_reason() + ")");
  if (static_cast<std::size_t>(w) * static_cast<std::size_t>(h) > (std::size_t(1) << 28))
    throw DatasetError(name, "image is " + std::to_string(w) + "x" + std::to_string(h) + " pixels, too large");
  std::unique_ptr<stbi_uc, void (*)(void*)> px(
      stbi_load_from_memory(bytes, static_cast<int>(size), &w, &h, &n, channels), stbi_image_free);
  if (!px) throw DatasetError(name, std::string("unreadable image (") + stbi_failure_reason() + ")");
  const std::size_t hw = static_cast<std::size_t>(w) * h;
  TensorU8 chw = TensorU8::empty({static_cast<std::size_t>(channels), static_cast<std::size_t>(h),
                                  static_cast<std::size_t>(w)});
  for (int k = 0; k < channels; ++k)
    for (std::size_t i = 0; i < hw; ++i) chw[k * hw + i] = px.get()[i * channels + k];
  if (height == 0 && width == 0) return chw;
  if (height <= 0 || width <= 0)
    throw DatasetError(name, "requested image size " + std::to_string(height) + "x" + std::to_string(width) +
                                 " (both must be positive, or both 0 to keep the native size)");
  return resize_center_crop(chw, height, width);
}

TensorU8 read_image(const std::string& path, int channels, int height, int width) {
  std::vector<std::uint8_t> bytes = read_file_raw(path, std::size_t(1) << 30);
  return decode_image(bytes.data(), bytes.size(), path, channels, height, width);
}

ImageDataset load_image_folder(const std::string& dir, const ImageFolderOptions& options) {
  check_channels(options.channels, dir);
  if ((options.height == 0) != (options.width == 0) || options.height < 0 || options.width < 0)
    throw DatasetError(dir, "image size " + std::to_string(options.height) + "x" + std::to_string(options.width) +
                                " (both must be positive, or both 0 to keep the native size)");
  if (!is_dir(dir)) throw DatasetError(dir, "image folder does not exist or is not a folder");

  // Collect (path, label): subfolders are classes in sorted order; top-level images unlabelled.
  std::vector<std::string> paths;
  std::vector<std::int32_t> labels;
  ImageDataset out;
  for (const std::string& entry : list_dir(dir)) {
    std::string p = dir + "/" + entry;
    if (is_dir(p)) {
      std::int32_t label = static_cast<std::int32_t>(out.class_names.size());
      bool any = false;
      for (const std::string& f : list_dir(p)) {
        std::string fp = p + "/" + f;
        if (is_image_file_name(f) && is_file(fp)) {
          paths.push_back(fp);
          labels.push_back(label);
          any = true;
        }
      }
      if (any) out.class_names.push_back(entry);
    } else if (is_image_file_name(entry) && is_file(p)) {
      paths.push_back(p);
      labels.push_back(-1);
    }
  }
  if (paths.empty())
    throw DatasetError(dir, "empty image folder: no .png/.jpg/.jpeg/.bmp/.gif/.tga/.pnm images in it or in its subfolders");

  // Decode in parallel; keep the first error by file order so the message is deterministic.
  const std::size_t n = paths.size();
  std::vector<TensorU8> decoded(n);
  std::vector<std::exception_ptr> errors(n);
  parallel_for(n, 1, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      try {
        decoded[i] = read_image(paths[i], options.channels, options.height, options.width);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  });
  for (auto& err : errors)
    if (err) std::rethrow_exception(err);

  const Shape& s0 = decoded[0].shape();
  for (std::size_t i = 1; i < n; ++i)
    if (decoded[i].shape() != s0)
      throw DatasetError(paths[i], "image is " + std::to_string(decoded[i].size(2)) + "x" +
                                       std::to_string(decoded[i].size(1)) + " but " + paths[0] + " is " +
                                       std::to_string(s0[2]) + "x" + std::to_string(s0[1]) +
                                       "; pass a height and width to resize them all");
  const std::size_t per = decoded[0].numel();
  out.images = TensorU8::empty({n, s0[0], s0[1], s0[2]});
  parallel_for(n, std::max<std::size_t>(1, 32768 / per), [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) std::memcpy(out.images.data() + i * per, decoded[i].data(), per);
  });
  out.labels = std::move(labels);
  return out;
}

}  // namespace fz
