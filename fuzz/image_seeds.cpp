// fuzz/image_seeds.cpp — writes the seed corpus of fuzz_image: small valid PNG, BMP and JPEG
// files (stb_image_write) in 1 to 4 channels, each prefixed with the mode byte fuzz_image
// reads first. Built and run by scripts/fuzz.sh. Usage: image_seeds OUT_DIR
#include <cstdio>
#include <string>
#include <vector>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace {

void append(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<unsigned char>*>(context);
  out->insert(out->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + size);
}

void save(const std::string& path, unsigned char mode, const std::vector<unsigned char>& file) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fputc(mode, f);
  std::fwrite(file.data(), 1, file.size(), f);
  std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  const int w = 5, h = 3;
  for (int c = 1; c <= 4; ++c) {
    std::vector<unsigned char> px(static_cast<std::size_t>(w * h * c));
    for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<unsigned char>(i * 37 + c);
    std::vector<unsigned char> png, bmp, jpg;
    stbi_write_png_to_func(append, &png, w, h, c, px.data(), w * c);
    stbi_write_bmp_to_func(append, &bmp, w, h, c, px.data());
    stbi_write_jpg_to_func(append, &jpg, w, h, c, px.data(), 90);
    const unsigned char mode = static_cast<unsigned char>(c - 1 + (c % 2 ? 0x10 : 0));
    save(dir + "/png" + std::to_string(c), mode, png);
    save(dir + "/bmp" + std::to_string(c), mode, bmp);
    save(dir + "/jpg" + std::to_string(c), mode, jpg);
  }
  return 0;
}
