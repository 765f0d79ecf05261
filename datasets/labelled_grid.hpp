// datasets/labelled_grid.hpp — a table of pictures with text: equal-sized RGB cells in rows and
// columns, a label left of each row, one above each column, and a title. Drawn with cairo
// (Debian's libcairo2: its toy text API is all a label needs), written as PNG. The zoo gallery
// (cli/zoo.cpp) lays out its families x densities with it.
#pragma once

#include <string>
#include <vector>

#include "../tensor/tensor.hpp"

namespace fz {

struct LabelledGrid {
  std::string title;
  std::vector<std::string> row_labels;     // one per row
  std::vector<std::string> column_labels;  // one per column
  // cells[r][c]: (3, H, W) RGB, all the same H and W; an empty tensor leaves the cell blank
  // (a run that did not finish).
  std::vector<std::vector<TensorU8>> cells;
};

// Throws std::invalid_argument when the labels do not match the cells or the cells differ in
// shape, std::runtime_error naming `path` when cairo cannot write it.
void write_labelled_grid_png(const std::string& path, const LabelledGrid& grid);

}  // namespace fz
