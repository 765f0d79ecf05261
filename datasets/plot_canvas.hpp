// datasets/plot_canvas.hpp — PlotCanvas: the one drawing surface every picture with text is
// made on (plots in datasets/plot_*.hpp, the labelled grid of datasets/labelled_grid.hpp).
//
// Drawn with cairo (Debian's libcairo2), with text in the system's sans-serif font (DejaVu Sans
// from fonts-dejavu-core on Debian) through cairo's toy text API. Why cairo: the project already
// depends on it, it draws antialiased text, lines and shapes, and composites pixel images into
// the same surface; a plotting package such as PLplot would add a second drawing stack with its
// own fonts and file output for the same pictures. The finished canvas is read back as a
// (3, H, W) uint8 tensor, so tests check pixels without files and the PNG goes through the
// project's one PNG writer (datasets/image_write.hpp write_png, DatasetError naming the path).
//
// cairo is kept out of this header: the surface and context live in an opaque member.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../tensor/tensor.hpp"

namespace fz {

struct Colour {
  std::uint8_t r = 0, g = 0, b = 0;
};
constexpr Colour kBlack{0, 0, 0};
constexpr Colour kWhite{255, 255, 255};

enum class TextAlign { kStart, kCentre, kEnd };        // horizontal: x is the left / middle / right
enum class TextBaseline { kBaseline, kMiddle, kTop };  // vertical: y is the baseline / middle / top

struct TextStyle {
  double size = 13;  // pixels
  bool bold = false;
  TextAlign align = TextAlign::kStart;
  TextBaseline baseline = TextBaseline::kBaseline;
  bool vertical = false;  // rotated a quarter turn anticlockwise (a y-axis label)
  Colour colour = kBlack;
};

class PlotCanvas {
 public:
  // A white width x height picture; throws std::invalid_argument for a size outside
  // 1..16384 pixels per side.
  PlotCanvas(int width, int height);
  ~PlotCanvas();
  PlotCanvas(const PlotCanvas&) = delete;
  PlotCanvas& operator=(const PlotCanvas&) = delete;

  int width() const { return width_; }
  int height() const { return height_; }

  // Width in pixels `text` takes in `style` (its advance).
  double text_width(const std::string& text, const TextStyle& style) const;
  void text(double x, double y, const std::string& text, const TextStyle& style);

  void line(double x0, double y0, double x1, double y1, Colour colour, double width = 1.0, double opacity = 1.0);
  // A polyline through the points (x, y interleaved); no-op for fewer than two points.
  void polyline(const std::vector<double>& xy, Colour colour, double width = 1.0, double opacity = 1.0);
  void fill_rect(double x, double y, double w, double h, Colour colour, double opacity = 1.0);
  void stroke_rect(double x, double y, double w, double h, Colour colour, double width = 1.0);
  void fill_circle(double x, double y, double radius, Colour colour, double opacity = 1.0);
  // Drawing after clip() is limited to the rectangle until unclip().
  void clip(double x, double y, double w, double h);
  void unclip();

  // Copies a (3, H, W) RGB image with its top-left corner at (x, y), each pixel an
  // upscale x upscale block (nearest neighbour: pixels stay sharp and exact).
  void blit(const TensorU8& rgb, int x, int y, int upscale = 1);
  // Draws a (3, H, W) RGB image resampled into the w x h rectangle at (x, y): nearest
  // neighbour when enlarging (cells of a heat map stay square), filtered when shrinking.
  void draw_image(const TensorU8& rgb, double x, double y, double w, double h);

  // The picture as (3, H, W) uint8 RGB.
  TensorU8 pixels() const;
  // pixels() as a PNG (datasets/image_write.hpp write_png; DatasetError naming `path`).
  void write_png(const std::string& path) const;

 private:
  struct Cairo;
  std::unique_ptr<Cairo> cairo_;
  int width_, height_;
};

// A (1 or 3, H, W) image as (3, H, W) RGB (grey repeated in the three channels).
TensorU8 as_rgb(const TensorU8& image);

}  // namespace fz
