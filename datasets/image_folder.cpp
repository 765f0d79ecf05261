// datasets/image_folder.cpp — decoding, resizing and folder scanning.
#include "datasets/image_folder.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>

#include <dirent.h>
#include <sys/stat.h>

#include <stb_image.h>
#include <stb_image_resize.h>
#include <zlib.h>

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

// Appends the image files under `dir` (recursively, sorted at each level) to `paths`.
void collect_images(const std::string& dir, int depth, std::vector<std::string>& paths) {
  if (depth > kMaxFolderDepth)
    throw DatasetError(dir, "image folders nested more than " + std::to_string(kMaxFolderDepth) +
                                " levels deep (a symbolic link loop?)");
  for (const std::string& f : list_dir(dir)) {
    const std::string fp = dir + "/" + f;
    if (is_dir(fp))
      collect_images(fp, depth + 1, paths);
    else if (is_image_file_name(f) && is_file(fp))
      paths.push_back(fp);
  }
}

void check_channels(int channels, const std::string& name) {
  if (channels < 1 || channels > 4)
    throw DatasetError(name, "requested " + std::to_string(channels) + " channels (must be 1 to 4)");
}

// stb_image 2.27 (Debian's) writes past its Huffman arrays when a JPEG's DHT table lists more
// than 256 codes. stb reads a DHT only right after the bytes FF C4, so checking every table
// that follows any FF C4 in the file covers every table stb could read (a valid file has no
// FF C4 inside entropy-coded data, where FF is always followed by 00 or a marker).
bool jpeg_huffman_tables_fit(const std::uint8_t* b, std::size_t n) {
  for (std::size_t at = 0; at + 1 < n; ++at) {
    if (b[at] != 0xff || b[at + 1] != 0xc4) continue;
    std::size_t p = at + 2;
    if (p + 2 > n) break;
    long left = (long(b[p]) << 8 | b[p + 1]) - 2;
    p += 2;
    // stb reads bytes past the end of the buffer as 0: a table cut off by the end still counts.
    while (left > 0 && p < n) {
      long codes = 0;
      for (std::size_t i = 1; i <= 16 && p + i < n; ++i) codes += b[p + i];
      if (codes > 256) return false;
      p += 17 + static_cast<std::size_t>(codes);
      left -= 17 + codes;
    }
  }
  return true;
}

// stb_image 2.27 reads a PNM header's width, height and maximum value into an int without
// an overflow check (undefined behaviour past 2^31), and its 16-bit PNM path (maximum value
// above 255) reads past the buffer it allocated. This walks the header exactly as stb does
// (its whitespace and '#' comment skipping, bytes past the end read as 0) and returns what is
// wrong, or an empty string.
std::string pnm_header_problem(const std::uint8_t* b, std::size_t n) {
  std::size_t pos = 2;  // after "P5" / "P6"
  auto at_eof = [&] { return pos >= n; };
  auto get8 = [&] { return pos < n ? static_cast<char>(b[pos++]) : '\0'; };
  auto is_space = [](char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); };
  char c = get8();
  auto skip_whitespace = [&] {
    for (;;) {
      while (!at_eof() && is_space(c)) c = get8();
      if (at_eof() || c != '#') break;
      while (!at_eof() && c != '\n' && c != '\r') c = get8();
    }
  };
  long long value = 0;
  for (int number = 0; number < 3; ++number) {  // width, height, maximum value
    skip_whitespace();
    value = 0;
    while (!at_eof() && c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      if (value > std::numeric_limits<int>::max()) return "a number in its header is larger than 2^31";
      c = get8();
    }
  }
  if (value > 255) return "16-bit samples (maximum value " + std::to_string(value) + "), which are not read";
  return "";
}

std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

// stb_image grows its PNG buffers to what the file claims before checking it: a chunk length
// past the end of the file makes it allocate that much, and a small IDAT that inflates to
// gigabytes (a "zlib bomb") makes it allocate what it inflates to. So the chunks are walked
// first (each must fit the file) and the image data inflated once into a small scratch buffer,
// counting: more than the rows the header's size needs (with slack for interlacing) is refused.
// Returns an empty string when the file passes, else what is wrong.
std::string png_structure_problem(const std::uint8_t* b, std::size_t n) {
  std::size_t at = 8;
  std::uint64_t expected = 0;
  z_stream zs{};
  bool inflating = false;
  struct End {
    z_stream& zs;
    bool& on;
    ~End() {
      if (on) inflateEnd(&zs);
    }
  } end{zs, inflating};
  std::uint64_t inflated = 0;
  std::vector<std::uint8_t> scratch;
  while (at + 8 <= n) {
    const std::uint32_t len = be32(b + at);
    const std::uint8_t* type = b + at + 4;
    if (len > n - at - 8) return "a chunk claims " + std::to_string(len) + " bytes, past the end of the file";
    const std::uint8_t* data = b + at + 8;
    // Apple's CgBI variant stores raw deflate data, which the check below cannot measure.
    if (std::memcmp(type, "CgBI", 4) == 0) return "an Apple CgBI (iPhone-optimised) PNG, which is not read";
    if (std::memcmp(type, "IHDR", 4) == 0 && len >= 13 && expected == 0) {
      static const int kChannels[7] = {1, 0, 3, 1, 2, 0, 4};  // by colour type 0..6
      // Capped so the arithmetic cannot overflow (the pixel budget has been checked already).
      const std::uint64_t w = std::min<std::uint64_t>(be32(data), 1u << 28), h = std::min<std::uint64_t>(be32(data + 4), 1u << 28);
      const std::uint64_t depth = std::min<std::uint64_t>(data[8], 16);
      const int ch = data[9] <= 6 ? kChannels[data[9]] : 4;
      const std::uint64_t row = 1 + (w * static_cast<std::uint64_t>(ch ? ch : 4) * (depth ? depth : 16) + 7) / 8;
      expected = 2 * h * row + 65536;  // interlaced passes add at most a filter byte per row each
    } else if (std::memcmp(type, "IDAT", 4) == 0 && len > 0) {
      if (!inflating) {
        if (inflateInit(&zs) != Z_OK) return "zlib could not start";
        inflating = true;
        scratch.resize(1 << 16);
      }
      zs.next_in = const_cast<Bytef*>(data);
      zs.avail_in = len;
      while (zs.avail_in > 0) {
        zs.next_out = scratch.data();
        zs.avail_out = static_cast<uInt>(scratch.size());
        const int rc = inflate(&zs, Z_NO_FLUSH);
        inflated += scratch.size() - zs.avail_out;
        if (inflated > expected)
          return "its image data inflates to more than the " + std::to_string(expected) +
                 " bytes its size needs (a zlib bomb?)";
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK) break;  // corrupt data: stb reports it
      }
    } else if (std::memcmp(type, "IEND", 4) == 0) {
      break;
    }
    at += 12 + static_cast<std::size_t>(len);
  }
  return "";
}

}  // namespace

const char* image_format_from_magic(const std::uint8_t* b, std::size_t n) {
  auto starts = [&](const char* magic, std::size_t len) { return n >= len && std::memcmp(b, magic, len) == 0; };
  if (starts("\x89PNG\r\n\x1a\n", 8)) return "PNG";
  if (starts("\xff\xd8\xff", 3)) return "JPEG";
  if (starts("BM", 2)) return "BMP";
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return "GIF";
  if (starts("P5", 2) || starts("P6", 2)) return "PNM";  // binary PGM / PPM, what stb reads
  return nullptr;
}

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
                      int height, int width, std::size_t max_pixels) {
  check_channels(channels, name);
  if (size == 0) throw DatasetError(name, "unreadable image: the file is empty");
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw DatasetError(name, "unreadable image: file too large for stb_image");
  // The content decides the format, never the name: stb would otherwise fall through to its
  // TGA reader, which accepts almost any bytes as some huge image.
  if (!image_format_from_magic(bytes, size))
    throw DatasetError(name, "unreadable image: not a PNG, JPEG, BMP, GIF or binary PNM file (unrecognised first "
                             "bytes; TGA is not read since it has no magic number to recognise it by)");
  if (std::strcmp(image_format_from_magic(bytes, size), "PNM") == 0) {
    const std::string problem = pnm_header_problem(bytes, size);
    if (!problem.empty()) throw DatasetError(name, "unreadable image (PNM with " + problem + ")");
  }
  if (std::strcmp(image_format_from_magic(bytes, size), "JPEG") == 0 && !jpeg_huffman_tables_fit(bytes, size))
    throw DatasetError(name, "unreadable image (corrupt JPEG: a Huffman table lists more than 256 codes)");
  int w = 0, h = 0, n = 0;
  // Refuse absurd dimensions from the header before stb allocates the pixels.
  if (!stbi_info_from_memory(bytes, static_cast<int>(size), &w, &h, &n))
    throw DatasetError(name, std::string("unreadable image (") + stbi_failure_reason() + ")");
  auto check_budget = [&] {
    const std::size_t pixels = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
    if (w <= 0 || h <= 0) throw DatasetError(name, "unreadable image (no pixels)");
    if (pixels > max_pixels) {
      char mp[96];
      std::snprintf(mp, sizeof mp, "%.1f megapixels, above the budget of %.1f", double(pixels) / 1e6,
                    double(max_pixels) / 1e6);
      throw DatasetError(name, "image is " + std::to_string(w) + "x" + std::to_string(h) + " pixels (" + mp +
                                   "; train --max-megapixels raises it)");
    }
  };
  check_budget();
  if (std::strcmp(image_format_from_magic(bytes, size), "PNG") == 0) {  // after the budget: bounds its sizes
    const std::string problem = png_structure_problem(bytes, size);
    if (!problem.empty()) throw DatasetError(name, "unreadable image (corrupt PNG: " + problem + ")");
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> px(
      stbi_load_from_memory(bytes, static_cast<int>(size), &w, &h, &n, channels), stbi_image_free);
  if (!px) throw DatasetError(name, std::string("unreadable image (") + stbi_failure_reason() + ")");
  check_budget();  // the decoded size, should a header have understated it
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

TensorU8 read_image(const std::string& path, int channels, int height, int width, std::size_t max_pixels) {
  std::vector<std::uint8_t> bytes = read_file_raw(path, std::size_t(1) << 30);
  return decode_image(bytes.data(), bytes.size(), path, channels, height, width, max_pixels);
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
      const std::int32_t label = static_cast<std::int32_t>(out.class_names.size());
      const std::size_t before = paths.size();
      collect_images(p, 1, paths);
      labels.resize(paths.size(), label);
      if (paths.size() > before) out.class_names.push_back(entry);
    } else if (is_image_file_name(entry) && is_file(p)) {
      paths.push_back(p);
      labels.push_back(-1);
    }
  }
  if (paths.empty())
    throw DatasetError(dir, "empty image folder: no .png/.jpg/.jpeg/.bmp/.gif/.pgm/.ppm/.pnm images in it or in its subfolders");

  // Decode in parallel; keep the first error by file order so the message is deterministic.
  const std::size_t n = paths.size();
  std::vector<TensorU8> decoded(n);
  std::vector<std::exception_ptr> errors(n);
  parallel_for(n, 1, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      try {
        decoded[i] = read_image(paths[i], options.channels, options.height, options.width, options.max_pixels);
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
