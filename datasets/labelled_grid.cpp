// datasets/labelled_grid.cpp — write_labelled_grid_png: cells blitted into a cairo image
// surface, labels with cairo's toy text API, PNG by cairo_surface_write_to_png.
#include "datasets/labelled_grid.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include <cairo.h>

namespace fz {

namespace {

constexpr int kPad = 6;           // pixels between cells
constexpr double kFontSize = 14;  // labels
constexpr double kTitleSize = 17;

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

}  // namespace

void write_labelled_grid_png(const std::string& path, const LabelledGrid& grid) {
  const std::size_t rows = grid.cells.size();
  if (rows == 0 || grid.row_labels.size() != rows)
    throw std::invalid_argument("labelled grid: " + std::to_string(rows) + " rows of cells but " +
                                std::to_string(grid.row_labels.size()) + " row labels");
  const std::size_t cols = grid.column_labels.size();
  std::size_t h = 0, w = 0;
  for (const auto& row : grid.cells) {
    if (row.size() != cols)
      throw std::invalid_argument("labelled grid: a row has " + std::to_string(row.size()) + " cells, expected " +
                                  std::to_string(cols) + " (one per column label)");
    for (const TensorU8& cell : row) {
      if (cell.numel() == 0) continue;
      if (cell.dim() != 3 || cell.shape()[0] != 3)
        throw std::invalid_argument("labelled grid: cells must be (3, H, W) RGB, got " + shape_str(cell.shape()));
      if (h == 0) {
        h = cell.shape()[1];
        w = cell.shape()[2];
      } else if (cell.shape()[1] != h || cell.shape()[2] != w) {
        throw std::invalid_argument("labelled grid: cells differ in size (" + shape_str(cell.shape()) + " vs (3, " +
                                    std::to_string(h) + ", " + std::to_string(w) + "))");
      }
    }
  }
  if (h == 0) throw std::invalid_argument("labelled grid: every cell is empty");

  // Measure the row labels on a scratch surface to size the left margin.
  double label_w = 0;
  {
    Surface probe(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1), cairo_surface_destroy);
    Context cr(cairo_create(probe.get()), cairo_destroy);
    cairo_select_font_face(cr.get(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr.get(), kFontSize);
    for (const std::string& l : grid.row_labels) label_w = std::max(label_w, text_width(cr.get(), l));
  }
  const int left = static_cast<int>(label_w) + 2 * kPad;
  const int top = static_cast<int>(kTitleSize + kFontSize) + 4 * kPad;
  const int width = left + static_cast<int>(cols * (w + kPad)) + kPad;
  const int height = top + static_cast<int>(rows * (h + kPad)) + kPad;

  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height), cairo_surface_destroy);
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("labelled grid: cannot allocate a " + std::to_string(width) + "x" +
                             std::to_string(height) + " picture for '" + path + "'");
  Context cr(cairo_create(surface.get()), cairo_destroy);
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());

  // Cells: RGB24 is one 32-bit word per pixel, 0x00RRGGBB in native byte order.
  cairo_surface_flush(surface.get());
  unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      const TensorU8& cell = grid.cells[r][c];
      if (cell.numel() == 0) continue;
      const std::size_t x0 = left + c * (w + kPad), y0 = top + r * (h + kPad);
      for (std::size_t y = 0; y < h; ++y) {
        auto* px = reinterpret_cast<std::uint32_t*>(data + (y0 + y) * stride) + x0;
        for (std::size_t x = 0; x < w; ++x) {
          const std::size_t i = y * w + x;
          px[x] = std::uint32_t(cell[i]) << 16 | std::uint32_t(cell[h * w + i]) << 8 | cell[2 * h * w + i];
        }
      }
    }
  cairo_surface_mark_dirty(surface.get());

  cairo_set_source_rgb(cr.get(), 0, 0, 0);
  cairo_select_font_face(cr.get(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr.get(), kTitleSize);
  cairo_move_to(cr.get(), kPad, kPad + kTitleSize);
  cairo_show_text(cr.get(), grid.title.c_str());
  cairo_select_font_face(cr.get(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr.get(), kFontSize);
  for (std::size_t c = 0; c < cols; ++c) {  // centred above each column
    const double cx = left + c * (w + kPad) + w / 2.0;
    cairo_move_to(cr.get(), cx - text_width(cr.get(), grid.column_labels[c]) / 2, top - kPad);
    cairo_show_text(cr.get(), grid.column_labels[c].c_str());
  }
  for (std::size_t r = 0; r < rows; ++r) {  // right-aligned, vertically centred on the row
    const double cy = top + r * (h + kPad) + h / 2.0 + kFontSize / 3;
    cairo_move_to(cr.get(), left - kPad - text_width(cr.get(), grid.row_labels[r]), cy);
    cairo_show_text(cr.get(), grid.row_labels[r].c_str());
  }
  const cairo_status_t st = cairo_surface_write_to_png(surface.get(), path.c_str());
  if (st != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("cannot write '" + path + "': " + cairo_status_to_string(st));
}

}  // namespace fz
