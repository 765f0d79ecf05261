// datasets/stb_impl.cpp — the one translation unit that compiles the stb_image (PNG, JPEG,
// BMP, GIF and PNM readers only), stb_image_resize and stb_image_write implementations
// (headers from Debian's libstb-dev).
// stb's own code is not held to our warning level.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wcast-qual"
#endif

// Only the formats recognised by their magic bytes (datasets/image_folder.cpp): the readers
// for TGA (no magic number: it accepts almost anything), PSD, HDR and PIC are not compiled at
// all, so no file can reach them whatever its first bytes, and there is less code to trust.
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_PNM
// stb_image 2.27 can read memory it allocated but never wrote: a JPEG scan that uses a
// Huffman table no DHT segment defined indexes arrays with whatever the heap held (found by
// fuzz_image; UBSan reported an index of -1330537826). Zeroed allocations make such tables
// read as empty, which its decoder reports as a bad code instead of reading out of bounds.
#include <cstdlib>
#define STBI_MALLOC(size) std::calloc(1, size)
#define STBI_REALLOC(p, size) std::realloc(p, size)
#define STBI_FREE(p) std::free(p)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb_image.h>

#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image_resize.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
