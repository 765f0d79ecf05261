// datasets/plot_canvas.cpp — PlotCanvas on a cairo RGB24 image surface: text with cairo's toy
// text API, paths for lines and shapes, images copied in as pixels or as a scaled pattern.
#include "datasets/plot_canvas.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <cairo.h>

#include "datasets/image_write.hpp"

namespace fz {

namespace {

constexpr int kMaxSide = 16384;

void set_colour(cairo_t* cr, Colour c, double opacity = 1.0) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, opacity);
}

void set_font(cairo_t* cr, const TextStyle& style) {
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         style.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, style.size);
}

void check_rgb(const TensorU8& rgb, const char* what) {
  if (rgb.dim() != 3 || rgb.shape()[0] != 3 || rgb.shape()[1] == 0 || rgb.shape()[2] == 0)
    throw std::invalid_argument(std::string(what) + ": expected a non-empty (3, H, W) RGB image, got " +
                                shape_str(rgb.shape()));
}

// RGB24 stores one 32-bit word per pixel, 0x00RRGGBB in native byte order.
std::uint32_t pack(const TensorU8& rgb, std::size_t plane, std::size_t i) {
  return std::uint32_t(rgb[i]) << 16 | std::uint32_t(rgb[plane + i]) << 8 | rgb[2 * plane + i];
}

}  // namespace

struct PlotCanvas::Cairo {
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  ~Cairo() {
    if (cr) cairo_destroy(cr);
    if (surface) cairo_surface_destroy(surface);
  }
};

PlotCanvas::PlotCanvas(int width, int height) : cairo_(std::make_unique<Cairo>()), width_(width), height_(height) {
  if (width < 1 || height < 1 || width > kMaxSide || height > kMaxSide)
    throw std::invalid_argument("plot: a picture of " + std::to_string(width) + "x" + std::to_string(height) +
                                " pixels is outside 1..16384 per side");
  cairo_->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  if (cairo_surface_status(cairo_->surface) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("plot: cannot allocate a " + std::to_string(width) + "x" + std::to_string(height) +
                             " picture");
  cairo_->cr = cairo_create(cairo_->surface);
  set_colour(cairo_->cr, kWhite);
  cairo_paint(cairo_->cr);
}

PlotCanvas::~PlotCanvas() = default;

double PlotCanvas::text_width(const std::string& text, const TextStyle& style) const {
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  set_font(cr, style);
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  cairo_restore(cr);
  return e.x_advance;
}

void PlotCanvas::text(double x, double y, const std::string& text, const TextStyle& style) {
  if (text.empty()) return;
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  set_font(cr, style);
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  cairo_font_extents_t f;
  cairo_font_extents(cr, &f);
  double dx = 0, dy = 0;  // from the anchor to the start of the baseline, in the text's frame
  if (style.align == TextAlign::kCentre) dx = -e.x_advance / 2;
  if (style.align == TextAlign::kEnd) dx = -e.x_advance;
  // Middle and top from the font's ascent (not the glyphs'), so labels of one row line up.
  if (style.baseline == TextBaseline::kMiddle) dy = f.ascent * 0.5 - f.descent * 0.25;
  if (style.baseline == TextBaseline::kTop) dy = f.ascent;
  cairo_translate(cr, x, y);
  if (style.vertical) cairo_rotate(cr, -M_PI / 2);
  cairo_move_to(cr, dx, dy);
  set_colour(cr, style.colour);
  cairo_show_text(cr, text.c_str());
  cairo_restore(cr);
}

void PlotCanvas::line(double x0, double y0, double x1, double y1, Colour colour, double width, double opacity) {
  polyline({x0, y0, x1, y1}, colour, width, opacity);
}

void PlotCanvas::polyline(const std::vector<double>& xy, Colour colour, double width, double opacity) {
  if (xy.size() < 4) return;
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  cairo_move_to(cr, xy[0], xy[1]);
  for (std::size_t i = 2; i + 1 < xy.size(); i += 2) cairo_line_to(cr, xy[i], xy[i + 1]);
  set_colour(cr, colour, opacity);
  cairo_set_line_width(cr, width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
  cairo_stroke(cr);
  cairo_restore(cr);
}

void PlotCanvas::fill_rect(double x, double y, double w, double h, Colour colour, double opacity) {
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  set_colour(cr, colour, opacity);
  cairo_fill(cr);
  cairo_restore(cr);
}

void PlotCanvas::stroke_rect(double x, double y, double w, double h, Colour colour, double width) {
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  set_colour(cr, colour);
  cairo_set_line_width(cr, width);
  cairo_stroke(cr);
  cairo_restore(cr);
}

void PlotCanvas::fill_circle(double x, double y, double radius, Colour colour, double opacity) {
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  cairo_new_sub_path(cr);
  cairo_arc(cr, x, y, radius, 0, 2 * M_PI);
  set_colour(cr, colour, opacity);
  cairo_fill(cr);
  cairo_restore(cr);
}

void PlotCanvas::clip(double x, double y, double w, double h) {
  cairo_reset_clip(cairo_->cr);
  cairo_rectangle(cairo_->cr, x, y, w, h);
  cairo_clip(cairo_->cr);
}

void PlotCanvas::unclip() { cairo_reset_clip(cairo_->cr); }

void PlotCanvas::blit(const TensorU8& rgb, int x0, int y0, int upscale) {
  check_rgb(rgb, "plot blit");
  if (upscale < 1) throw std::invalid_argument("plot blit: upscale must be at least 1");
  const std::size_t h = rgb.shape()[1], w = rgb.shape()[2], plane = h * w;
  cairo_surface_flush(cairo_->surface);
  unsigned char* data = cairo_image_surface_get_data(cairo_->surface);
  const int stride = cairo_image_surface_get_stride(cairo_->surface);
  for (std::size_t y = 0; y < h * upscale; ++y) {
    const long py = y0 + static_cast<long>(y);
    if (py < 0 || py >= height_) continue;
    auto* row = reinterpret_cast<std::uint32_t*>(data + py * stride);
    for (std::size_t x = 0; x < w * upscale; ++x) {
      const long px = x0 + static_cast<long>(x);
      if (px < 0 || px >= width_) continue;
      row[px] = pack(rgb, plane, (y / upscale) * w + x / upscale);
    }
  }
  cairo_surface_mark_dirty(cairo_->surface);
}

void PlotCanvas::draw_image(const TensorU8& rgb, double x, double y, double w, double h) {
  check_rgb(rgb, "plot image");
  const int ih = static_cast<int>(rgb.shape()[1]), iw = static_cast<int>(rgb.shape()[2]);
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, iw, ih);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    throw std::runtime_error("plot: cannot allocate a " + std::to_string(iw) + "x" + std::to_string(ih) + " image");
  }
  unsigned char* data = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  const std::size_t plane = static_cast<std::size_t>(ih) * iw;
  for (int r = 0; r < ih; ++r) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + r * stride);
    for (int c = 0; c < iw; ++c) row[c] = pack(rgb, plane, static_cast<std::size_t>(r) * iw + c);
  }
  cairo_surface_mark_dirty(img);
  cairo_t* cr = cairo_->cr;
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  cairo_clip(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, w / iw, h / ih);
  cairo_set_source_surface(cr, img, 0, 0);
  const bool enlarging = w >= iw && h >= ih;
  cairo_pattern_set_filter(cairo_get_source(cr), enlarging ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
  cairo_paint(cr);
  cairo_restore(cr);  // drops the pattern's reference to img
  cairo_surface_destroy(img);
}

TensorU8 PlotCanvas::pixels() const {
  cairo_surface_flush(cairo_->surface);
  const unsigned char* data = cairo_image_surface_get_data(cairo_->surface);
  const int stride = cairo_image_surface_get_stride(cairo_->surface);
  const std::size_t plane = static_cast<std::size_t>(width_) * height_;
  TensorU8 out = TensorU8::empty({3, static_cast<std::size_t>(height_), static_cast<std::size_t>(width_)});
  for (int y = 0; y < height_; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(data + y * stride);
    for (int x = 0; x < width_; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * width_ + x;
      out[i] = static_cast<std::uint8_t>(row[x] >> 16);
      out[plane + i] = static_cast<std::uint8_t>(row[x] >> 8);
      out[2 * plane + i] = static_cast<std::uint8_t>(row[x]);
    }
  }
  return out;
}

void PlotCanvas::write_png(const std::string& path) const { fz::write_png(path, pixels()); }

TensorU8 as_rgb(const TensorU8& image) {
  if (image.dim() != 3 || (image.shape()[0] != 1 && image.shape()[0] != 3))
    throw std::invalid_argument("as_rgb: expected a (1 or 3, H, W) image, got " + shape_str(image.shape()));
  if (image.shape()[0] == 3) return image;
  const std::size_t plane = image.shape()[1] * image.shape()[2];
  TensorU8 out = TensorU8::empty({3, image.shape()[1], image.shape()[2]});
  for (int k = 0; k < 3; ++k) std::memcpy(out.data() + k * plane, image.data(), plane);
  return out;
}

}  // namespace fz
