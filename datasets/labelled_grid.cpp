// datasets/labelled_grid.cpp — the labelled table on a PlotCanvas: margins measured from the
// labels, cells copied in pixel for pixel (upscaled by whole pixels), text over the margins.
#include "datasets/labelled_grid.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "datasets/image_write.hpp"
#include "datasets/plot_canvas.hpp"

namespace fz {

namespace {

constexpr double kFontSize = 14;  // labels
constexpr double kTitleSize = 16;
constexpr double kFooterSize = 12;
constexpr double kNoteSize = 11;
constexpr int kMargin = 8;

TextStyle label_style() {
  TextStyle s;
  s.size = kFontSize;
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Lines of the longest text (0 for none or all empty).
std::size_t most_lines(const std::vector<std::string>& texts) {
  std::size_t n = 0;
  for (const std::string& t : texts)
    if (!t.empty()) n = std::max(n, lines_of(t).size());
  return n;
}

bool any_text(const std::vector<std::string>& labels) {
  return std::any_of(labels.begin(), labels.end(), [](const std::string& s) { return !s.empty(); });
}

struct Measured {
  LabelledGridLayout layout;
  std::size_t rows = 0, cols = 0;
};

Measured measure(const LabelledGrid& grid) {
  Measured m;
  m.rows = grid.cells.size();
  if (m.rows == 0 || grid.row_labels.size() != m.rows)
    throw std::invalid_argument("labelled grid: " + std::to_string(m.rows) + " rows of cells but " +
                                std::to_string(grid.row_labels.size()) + " row labels");
  m.cols = grid.column_labels.size();
  if (!grid.column_notes.empty() && grid.column_notes.size() != m.cols)
    throw std::invalid_argument("labelled grid: " + std::to_string(grid.column_notes.size()) + " column notes for " +
                                std::to_string(m.cols) + " columns");
  if (grid.upscale < 1 || grid.upscale > 16)
    throw std::invalid_argument("labelled grid: upscale must be between 1 and 16, got " + std::to_string(grid.upscale));
  if (grid.padding < 0 || grid.padding > 100)
    throw std::invalid_argument("labelled grid: padding must be between 0 and 100, got " + std::to_string(grid.padding));
  std::size_t h = 0, w = 0;
  for (const auto& row : grid.cells) {
    if (row.size() != m.cols)
      throw std::invalid_argument("labelled grid: a row has " + std::to_string(row.size()) + " cells, expected " +
                                  std::to_string(m.cols) + " (one per column label)");
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
  if (h * grid.upscale > 4096 || w * grid.upscale > 4096)
    throw std::invalid_argument("labelled grid: cells of " + std::to_string(w) + "x" + std::to_string(h) +
                                " upscaled " + std::to_string(grid.upscale) + " times exceed 4096 pixels");

  // Label widths on a scratch canvas.
  PlotCanvas probe(1, 1);
  double label_w = 0;
  for (const std::string& l : grid.row_labels) label_w = std::max(label_w, probe.text_width(l, label_style()));
  LabelledGridLayout& L = m.layout;
  L.padding = grid.padding;
  L.cell_width = static_cast<int>(w) * grid.upscale;
  L.cell_height = static_cast<int>(h) * grid.upscale;
  L.left = kMargin + (label_w > 0 ? static_cast<int>(label_w) + kMargin : 0);
  L.top = kMargin + (grid.title.empty() ? 0 : static_cast<int>(kTitleSize) + kMargin) +
          (any_text(grid.column_labels) ? static_cast<int>(kFontSize) + kMargin : 0) +
          static_cast<int>(most_lines(grid.column_notes) * (kNoteSize + 3));
  const int grid_w = static_cast<int>(m.cols) * (L.cell_width + L.padding) - L.padding;
  const int grid_h = static_cast<int>(m.rows) * (L.cell_height + L.padding) - L.padding;
  double title_w = 0, footer_w = 0;
  if (!grid.title.empty()) {
    TextStyle t;
    t.size = kTitleSize;
    t.bold = true;
    title_w = probe.text_width(grid.title, t);
  }
  const std::vector<std::string> footer = grid.footer.empty() ? std::vector<std::string>{} : lines_of(grid.footer);
  for (const std::string& line : footer) {
    TextStyle f;
    f.size = kFooterSize;
    footer_w = std::max(footer_w, probe.text_width(line, f));
  }
  L.width = std::max({L.left + grid_w + kMargin, static_cast<int>(title_w) + 2 * kMargin,
                      static_cast<int>(footer_w) + 2 * kMargin});
  L.height = L.top + grid_h + kMargin + (footer.empty() ? 0 : static_cast<int>(footer.size() * (kFooterSize + 4)) + kMargin);
  return m;
}

}  // namespace

LabelledGridLayout labelled_grid_layout(const LabelledGrid& grid) { return measure(grid).layout; }

TensorU8 labelled_grid_image(const LabelledGrid& grid) {
  const Measured m = measure(grid);
  const LabelledGridLayout& L = m.layout;
  PlotCanvas canvas(L.width, L.height);
  for (std::size_t r = 0; r < m.rows; ++r)
    for (std::size_t c = 0; c < m.cols; ++c)
      if (grid.cells[r][c].numel() != 0) canvas.blit(grid.cells[r][c], L.cell_x(c), L.cell_y(r), grid.upscale);

  if (!grid.title.empty()) {
    TextStyle t;
    t.size = kTitleSize;
    t.bold = true;
    t.baseline = TextBaseline::kTop;
    canvas.text(kMargin, kMargin, grid.title, t);
  }
  TextStyle col = label_style();
  col.align = TextAlign::kCentre;
  const double notes_h = static_cast<double>(most_lines(grid.column_notes)) * (kNoteSize + 3);
  for (std::size_t c = 0; c < m.cols; ++c)  // centred above each column
    canvas.text(L.cell_x(c) + L.cell_width / 2.0, L.top - kMargin - 2 - notes_h, grid.column_labels[c], col);
  TextStyle note;
  note.size = kNoteSize;
  note.align = TextAlign::kCentre;
  note.colour = Colour{80, 80, 80};
  for (std::size_t c = 0; c < grid.column_notes.size(); ++c) {
    const std::vector<std::string> lines = lines_of(grid.column_notes[c]);
    for (std::size_t k = 0; k < lines.size(); ++k)
      canvas.text(L.cell_x(c) + L.cell_width / 2.0, L.top - kMargin + 2 - notes_h + (k + 1) * (kNoteSize + 3),
                  lines[k], note);
  }
  TextStyle row = label_style();
  row.align = TextAlign::kEnd;
  row.baseline = TextBaseline::kMiddle;
  for (std::size_t r = 0; r < m.rows; ++r)  // right-aligned, vertically centred on the row
    canvas.text(L.left - kMargin, L.cell_y(r) + L.cell_height / 2.0, grid.row_labels[r], row);
  if (!grid.footer.empty()) {
    TextStyle f;
    f.size = kFooterSize;
    f.colour = Colour{60, 60, 60};
    f.baseline = TextBaseline::kTop;
    const std::vector<std::string> lines = lines_of(grid.footer);
    const double y0 = L.cell_y(m.rows) - L.padding + kMargin;
    for (std::size_t k = 0; k < lines.size(); ++k) canvas.text(kMargin, y0 + k * (kFooterSize + 4), lines[k], f);
  }
  return canvas.pixels();
}

void write_labelled_grid_png(const std::string& path, const LabelledGrid& grid) {
  write_png(path, labelled_grid_image(grid));
}

std::vector<std::vector<TensorU8>> grid_rows(const TensorU8& images, std::size_t columns) {
  if (images.dim() != 4 || images.shape()[0] == 0 || (images.shape()[1] != 1 && images.shape()[1] != 3))
    throw std::invalid_argument("grid_rows: expected (N, 1 or 3, H, W) images, got " + shape_str(images.shape()));
  if (columns == 0) throw std::invalid_argument("grid_rows: need at least one column");
  const std::size_t n = images.shape()[0], c = images.shape()[1], h = images.shape()[2], w = images.shape()[3];
  std::vector<std::vector<TensorU8>> rows;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % columns == 0) rows.emplace_back();
    TensorU8 one = TensorU8::empty({c, h, w});
    std::memcpy(one.data(), images.data() + i * c * h * w, c * h * w);
    rows.back().push_back(as_rgb(one));
  }
  while (rows.back().size() < columns) rows.back().emplace_back();
  return rows;
}

LabelledGrid image_table(const std::string& title, const TensorU8& images, std::size_t columns,
                         std::vector<std::string> row_labels, std::vector<std::string> column_labels) {
  LabelledGrid grid;
  grid.title = title;
  grid.cells = grid_rows(images, columns);
  row_labels.resize(grid.cells.size());
  column_labels.resize(columns);
  grid.row_labels = std::move(row_labels);
  grid.column_labels = std::move(column_labels);
  return grid;
}

}  // namespace fz
