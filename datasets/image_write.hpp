// datasets/image_write.hpp — PNG output and the pixel pictures without text: image grids, 2-D
// density heatmaps (colours only) and scatter cells. The pictures with titles, axes and labels
// are drawn from these in datasets/plot_*.hpp and datasets/labelled_grid.hpp.
//
// Every make_* / *_image function returns the picture as a uint8 (C, H, W) tensor (C = 1 or 3)
// so it can be tested without files; the write_* functions encode it with stb_image_write
// and throw DatasetError naming the path when writing fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"
#include "../tensor/tensor.hpp"

namespace fz {

// PNG of a (C, H, W) image with C in 1..4, or a (H, W) grey image.
void write_png(const std::string& path, const TensorU8& image);

// Tiles (N, C, H, W) images into one (C, H', W') picture: `ncols` per row (0: ceil(sqrt(N))),
// `padding` pixels of `pad_value` between and around the tiles.
TensorU8 make_image_grid(const TensorU8& images, std::size_t ncols = 0, std::size_t padding = 2,
                         std::uint8_t pad_value = 0);
// Float images: values clamped to [lo, hi] and mapped linearly to 0..255 (rounded).
TensorU8 to_uint8_images(const Tensor<float>& images, double lo = 0.0, double hi = 1.0);
TensorU8 to_uint8_images(const Tensor<double>& images, double lo = 0.0, double hi = 1.0);

void write_image_grid(const std::string& path, const TensorU8& images, std::size_t ncols = 0,
                      std::size_t padding = 2, std::uint8_t pad_value = 0);
void write_image_grid(const std::string& path, const Tensor<float>& images, double lo = 0.0, double hi = 1.0,
                      std::size_t ncols = 0, std::size_t padding = 2, std::uint8_t pad_value = 0);
void write_image_grid(const std::string& path, const Tensor<double>& images, double lo = 0.0, double hi = 1.0,
                      std::size_t ncols = 0, std::size_t padding = 2, std::uint8_t pad_value = 0);

// ---- 2-D densities ----
struct PlotRange {
  double xmin = 0, xmax = 0, ymin = 0, ymax = 0;  // all zero (or empty): fit the data
  bool is_set() const { return xmax > xmin && ymax > ymin; }
};

// The centers of an nx-by-ny grid of cells over the range as (ny * nx, 2) points, row-major,
// the first row at the top (largest y): evaluate log p on it, reshape to (ny, nx), and the
// result maps straight onto density_heatmap's pixels.
Tensor<double> density_grid(const PlotRange& range, std::size_t nx, std::size_t ny);

// The viridis colormap at t in [0, 1] (clamped).
void viridis(double t, std::uint8_t rgb[3]);

// Colors a (H, W) grid of log-densities (row 0 = top) as (3, H, W) with viridis: the density
// exp(log p) relative to its maximum, or with log_scale the log-density clipped to
// [max - log_range, max]. Non-finite values get the lowest color.
TensorU8 density_heatmap(const Tensor<float>& log_prob, bool log_scale = false, double log_range = 10.0);
TensorU8 density_heatmap(const Tensor<double>& log_prob, bool log_scale = false, double log_range = 10.0);
void write_density_png(const std::string& path, const Tensor<float>& log_prob, bool log_scale = false,
                       double log_range = 10.0);
void write_density_png(const std::string& path, const Tensor<double>& log_prob, bool log_scale = false,
                       double log_range = 10.0);

// ---- scatter cells (no text; light axes through the origin) ----
// (n, 2) points as dark dots on white (3, height, width); overlapping dots get darker.
TensorU8 scatter_image(const Tensor<float>& points, std::size_t width = 512, std::size_t height = 512,
                       PlotRange range = {});
TensorU8 scatter_image(const Tensor<double>& points, std::size_t width = 512, std::size_t height = 512,
                       PlotRange range = {});
void write_scatter_png(const std::string& path, const Tensor<float>& points, std::size_t width = 512,
                       std::size_t height = 512, PlotRange range = {});
void write_scatter_png(const std::string& path, const Tensor<double>& points, std::size_t width = 512,
                       std::size_t height = 512, PlotRange range = {});

}  // namespace fz
