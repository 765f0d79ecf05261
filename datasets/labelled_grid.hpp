// datasets/labelled_grid.hpp — a table of pictures with text: equal-sized RGB cells in rows and
// columns, a label left of each row, one above each column, a title and an optional footer line.
// Drawn on a PlotCanvas (datasets/plot_canvas.hpp: cairo, the system's sans-serif font), written
// as PNG. The zoo gallery (cli/zoo.cpp) lays out its families x densities with it, the image
// commands their sample grids (a row per temperature), latent channels, reconstructions and
// interpolations (cli/inspect_commands.cpp, cli/study_flow_commands.cpp).
#pragma once

#include <string>
#include <vector>

#include "../tensor/tensor.hpp"

namespace fz {

struct LabelledGrid {
  std::string title;
  std::vector<std::string> row_labels;     // one per row ("" = none)
  std::vector<std::string> column_labels;  // one per column (all "" = no label row)
  std::vector<std::string> column_notes;   // none, or smaller text under each column label ('\n' breaks lines)
  // cells[r][c]: (3, H, W) RGB, all the same H and W; an empty tensor leaves the cell blank
  // (a run that did not finish, the end of the last row).
  std::vector<std::vector<TensorU8>> cells;
  std::string footer;  // smaller text under the grid ("" = none; '\n' breaks lines)
  int upscale = 1;     // each cell pixel drawn as upscale x upscale pixels (1..16)
  int padding = 6;     // pixels between cells
};

// Where things land: the picture's size and the top-left pixel of every cell.
struct LabelledGridLayout {
  int width = 0, height = 0;
  int left = 0, top = 0;                  // the first cell's top-left pixel
  int cell_width = 0, cell_height = 0;    // after upscaling
  int padding = 0;
  int cell_x(std::size_t column) const { return left + static_cast<int>(column) * (cell_width + padding); }
  int cell_y(std::size_t row) const { return top + static_cast<int>(row) * (cell_height + padding); }
};

// Throw std::invalid_argument when the labels do not match the cells, the cells differ in
// shape, or upscale / padding are out of range.
LabelledGridLayout labelled_grid_layout(const LabelledGrid& grid);
TensorU8 labelled_grid_image(const LabelledGrid& grid);  // (3, height, width) RGB
// ... and DatasetError naming `path` when it cannot be written.
void write_labelled_grid_png(const std::string& path, const LabelledGrid& grid);

// (N, C, H, W) images (C = 1 or 3) as rows of `columns` RGB cells; the last row is filled up
// with empty cells.
std::vector<std::vector<TensorU8>> grid_rows(const TensorU8& images, std::size_t columns);
// A table of those rows with a title; the labels given first, "" for the rest.
LabelledGrid image_table(const std::string& title, const TensorU8& images, std::size_t columns,
                         std::vector<std::string> row_labels = {}, std::vector<std::string> column_labels = {});

}  // namespace fz
