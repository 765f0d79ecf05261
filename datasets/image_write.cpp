// datasets/image_write.cpp — image grids, heatmaps and scatter cells encoded as PNG.
#include "datasets/image_write.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <stb_image_write.h>

#include "datasets/file_bytes.hpp"

namespace fz {

namespace {

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* p = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

// A (3, H, W) canvas with plain pixel access.
struct Canvas {
  TensorU8 img;
  std::size_t w, h;
  Canvas(std::size_t width, std::size_t height, std::uint8_t r, std::uint8_t g, std::uint8_t b)
      : img(TensorU8::empty({3, height, width})), w(width), h(height) {
    std::memset(img.data(), r, w * h);
    std::memset(img.data() + w * h, g, w * h);
    std::memset(img.data() + 2 * w * h, b, w * h);
  }
  void set(long x, long y, const std::uint8_t rgb[3]) {
    if (x < 0 || y < 0 || x >= static_cast<long>(w) || y >= static_cast<long>(h)) return;
    for (int k = 0; k < 3; ++k) img[(k * h + static_cast<std::size_t>(y)) * w + static_cast<std::size_t>(x)] = rgb[k];
  }
  // Mixes a fraction `a` of rgb into the pixel.
  void blend(long x, long y, const std::uint8_t rgb[3], double a) {
    if (x < 0 || y < 0 || x >= static_cast<long>(w) || y >= static_cast<long>(h)) return;
    for (int k = 0; k < 3; ++k) {
      std::uint8_t& p = img[(k * h + static_cast<std::size_t>(y)) * w + static_cast<std::size_t>(x)];
      p = static_cast<std::uint8_t>(std::lround(p * (1.0 - a) + rgb[k] * a));
    }
  }
  void line(long x0, long y0, long x1, long y1, const std::uint8_t rgb[3], int thickness = 1) {
    // Bresenham.
    long dx = std::labs(x1 - x0), dy = -std::labs(y1 - y0);
    long sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    while (true) {
      for (int t = 0; t < thickness; ++t) {
        if (dx >= -dy) set(x0, y0 + t, rgb); else set(x0 + t, y0, rgb);
      }
      if (x0 == x1 && y0 == y1) break;
      long e2 = 2 * err;
      if (e2 >= dy) { err += dy; x0 += sx; }
      if (e2 <= dx) { err += dx; y0 += sy; }
    }
  }
};

template <typename T>
TensorU8 to_uint8_impl(const Tensor<T>& images, double lo, double hi) {
  if (!(hi > lo)) throw std::invalid_argument("to_uint8_images: need lo < hi");
  TensorU8 out = TensorU8::empty(images.shape());
  const double scale = 255.0 / (hi - lo);
  for (std::size_t i = 0; i < images.numel(); ++i) {
    double v = static_cast<double>(images[i]);
    if (std::isnan(v)) v = lo;
    v = std::min(std::max(v, lo), hi);
    out[i] = static_cast<std::uint8_t>(std::lround((v - lo) * scale));
  }
  return out;
}

template <typename T>
TensorU8 heatmap_impl(const Tensor<T>& log_prob, bool log_scale, double log_range) {
  if (log_prob.dim() != 2)
    throw std::invalid_argument("density_heatmap: expected a (H, W) grid of log-densities, got " +
                                shape_str(log_prob.shape()));
  const std::size_t h = log_prob.size(0), w = log_prob.size(1);
  double mx = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < log_prob.numel(); ++i) {
    double v = static_cast<double>(log_prob[i]);
    if (std::isfinite(v)) mx = std::max(mx, v);
  }
  TensorU8 out = TensorU8::empty({3, h, w});
  for (std::size_t i = 0; i < h * w; ++i) {
    double v = static_cast<double>(log_prob[i]);
    double t = 0.0;
    if (std::isfinite(v) && std::isfinite(mx))
      t = log_scale ? 1.0 - std::min(mx - v, log_range) / log_range : std::exp(v - mx);
    std::uint8_t rgb[3];
    viridis(t, rgb);
    for (int k = 0; k < 3; ++k) out[k * h * w + i] = rgb[k];
  }
  return out;
}

PlotRange fit_range(const std::vector<double>& xs, const std::vector<double>& ys) {
  PlotRange r{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
              std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) continue;
    r.xmin = std::min(r.xmin, xs[i]);
    r.xmax = std::max(r.xmax, xs[i]);
    r.ymin = std::min(r.ymin, ys[i]);
    r.ymax = std::max(r.ymax, ys[i]);
  }
  auto widen = [](double& lo, double& hi) {
    if (!std::isfinite(lo)) { lo = -1; hi = 1; return; }
    double pad = (hi - lo) * 0.05;
    if (pad <= 0) pad = std::max(std::fabs(lo) * 0.05, 0.5);
    lo -= pad;
    hi += pad;
  };
  widen(r.xmin, r.xmax);
  widen(r.ymin, r.ymax);
  return r;
}

template <typename T>
TensorU8 scatter_impl(const Tensor<T>& points, std::size_t width, std::size_t height, PlotRange range) {
  if (points.dim() != 2 || points.size(1) != 2)
    throw std::invalid_argument("scatter_image: expected (n, 2) points, got " + shape_str(points.shape()));
  if (width == 0 || height == 0) throw std::invalid_argument("scatter_image: width and height must be positive");
  const std::size_t n = points.size(0);
  std::vector<double> xs(n), ys(n);
  for (std::size_t i = 0; i < n; ++i) {
    xs[i] = static_cast<double>(points[2 * i]);
    ys[i] = static_cast<double>(points[2 * i + 1]);
  }
  if (!range.is_set()) range = fit_range(xs, ys);
  Canvas c(width, height, 255, 255, 255);
  const std::uint8_t dot[3] = {20, 40, 120};
  // Light axes through the origin when it is in view.
  const std::uint8_t axis[3] = {210, 210, 210};
  auto px = [&](double x) { return static_cast<long>(std::floor((x - range.xmin) / (range.xmax - range.xmin) * width)); };
  auto py = [&](double y) { return static_cast<long>(std::floor((range.ymax - y) / (range.ymax - range.ymin) * height)); };
  if (range.xmin < 0 && range.xmax > 0) c.line(px(0), 0, px(0), static_cast<long>(height) - 1, axis);
  if (range.ymin < 0 && range.ymax > 0) c.line(0, py(0), static_cast<long>(width) - 1, py(0), axis);
  // Alpha per dot shrinks with n so large clouds stay readable.
  const double alpha = std::min(0.6, std::max(0.08, 600.0 / std::max<double>(n, 1)));
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) continue;
    long x = px(xs[i]), y = py(ys[i]);
    for (long dy = -1; dy <= 1; ++dy)
      for (long dx = -1; dx <= 1; ++dx) c.blend(x + dx, y + dy, dot, (dx == 0 && dy == 0) ? std::min(1.0, 2 * alpha) : alpha);
  }
  return c.img;
}

}  // namespace

void write_png(const std::string& path, const TensorU8& image) {
  std::size_t c, h, w;
  if (image.dim() == 2) {
    c = 1, h = image.size(0), w = image.size(1);
  } else if (image.dim() == 3 && image.size(0) >= 1 && image.size(0) <= 4) {
    c = image.size(0), h = image.size(1), w = image.size(2);
  } else {
    throw DatasetError(path, "cannot write a PNG from a tensor of shape " + shape_str(image.shape()) +
                                 " (expected (C, H, W) with C in 1..4, or (H, W))");
  }
  if (h == 0 || w == 0 || h > (1u << 16) || w > (1u << 16))
    throw DatasetError(path, "cannot write a PNG of " + std::to_string(w) + "x" + std::to_string(h) + " pixels");
  std::vector<std::uint8_t> hwc(c * h * w);
  for (std::size_t k = 0; k < c; ++k)
    for (std::size_t i = 0; i < h * w; ++i) hwc[i * c + k] = image[k * h * w + i];
  std::vector<std::uint8_t> png;
  if (!stbi_write_png_to_func(append_bytes, &png, static_cast<int>(w), static_cast<int>(h), static_cast<int>(c),
                              hwc.data(), static_cast<int>(w * c)))
    throw DatasetError(path, "PNG encoding failed");
  write_file_bytes(path, png.data(), png.size());
}

TensorU8 make_image_grid(const TensorU8& images, std::size_t ncols, std::size_t padding, std::uint8_t pad_value) {
  if (images.dim() != 4 || images.size(0) == 0)
    throw std::invalid_argument("make_image_grid: expected non-empty (N, C, H, W) images, got " +
                                shape_str(images.shape()));
  const std::size_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  if (ncols == 0) ncols = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  ncols = std::min(ncols, n);
  const std::size_t nrows = (n + ncols - 1) / ncols;
  const std::size_t gh = nrows * h + (nrows + 1) * padding, gw = ncols * w + (ncols + 1) * padding;
  TensorU8 grid({c, gh, gw}, pad_value);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t y0 = padding + (i / ncols) * (h + padding), x0 = padding + (i % ncols) * (w + padding);
    for (std::size_t k = 0; k < c; ++k)
      for (std::size_t y = 0; y < h; ++y)
        std::memcpy(grid.data() + (k * gh + y0 + y) * gw + x0, images.data() + ((i * c + k) * h + y) * w, w);
  }
  return grid;
}

TensorU8 to_uint8_images(const Tensor<float>& images, double lo, double hi) { return to_uint8_impl(images, lo, hi); }
TensorU8 to_uint8_images(const Tensor<double>& images, double lo, double hi) { return to_uint8_impl(images, lo, hi); }

void write_image_grid(const std::string& path, const TensorU8& images, std::size_t ncols, std::size_t padding,
                      std::uint8_t pad_value) {
  write_png(path, make_image_grid(images, ncols, padding, pad_value));
}
void write_image_grid(const std::string& path, const Tensor<float>& images, double lo, double hi,
                      std::size_t ncols, std::size_t padding, std::uint8_t pad_value) {
  write_png(path, make_image_grid(to_uint8_images(images, lo, hi), ncols, padding, pad_value));
}
void write_image_grid(const std::string& path, const Tensor<double>& images, double lo, double hi,
                      std::size_t ncols, std::size_t padding, std::uint8_t pad_value) {
  write_png(path, make_image_grid(to_uint8_images(images, lo, hi), ncols, padding, pad_value));
}

Tensor<double> density_grid(const PlotRange& range, std::size_t nx, std::size_t ny) {
  if (!range.is_set() || nx == 0 || ny == 0)
    throw std::invalid_argument("density_grid: need xmin < xmax, ymin < ymax and a non-empty grid");
  Tensor<double> pts = Tensor<double>::empty({ny * nx, 2});
  const double dx = (range.xmax - range.xmin) / nx, dy = (range.ymax - range.ymin) / ny;
  for (std::size_t r = 0; r < ny; ++r)
    for (std::size_t c = 0; c < nx; ++c) {
      pts[2 * (r * nx + c)] = range.xmin + (c + 0.5) * dx;
      pts[2 * (r * nx + c) + 1] = range.ymax - (r + 0.5) * dy;
    }
  return pts;
}

void viridis(double t, std::uint8_t rgb[3]) {
  static const std::uint8_t table[11][3] = {{68, 1, 84},    {72, 36, 117},   {65, 68, 135},  {53, 95, 141},
                                            {42, 120, 142}, {33, 145, 140},  {34, 168, 132}, {68, 191, 112},
                                            {122, 209, 81}, {189, 223, 38},  {253, 231, 37}};
  if (!(t > 0)) t = 0;  // also NaN
  if (t > 1) t = 1;
  double s = t * 10.0;
  int i = std::min(9, static_cast<int>(s));
  double f = s - i;
  for (int k = 0; k < 3; ++k) rgb[k] = static_cast<std::uint8_t>(std::lround(table[i][k] * (1 - f) + table[i + 1][k] * f));
}

TensorU8 density_heatmap(const Tensor<float>& lp, bool log_scale, double log_range) {
  return heatmap_impl(lp, log_scale, log_range);
}
TensorU8 density_heatmap(const Tensor<double>& lp, bool log_scale, double log_range) {
  return heatmap_impl(lp, log_scale, log_range);
}
void write_density_png(const std::string& path, const Tensor<float>& lp, bool log_scale, double log_range) {
  write_png(path, density_heatmap(lp, log_scale, log_range));
}
void write_density_png(const std::string& path, const Tensor<double>& lp, bool log_scale, double log_range) {
  write_png(path, density_heatmap(lp, log_scale, log_range));
}

TensorU8 scatter_image(const Tensor<float>& p, std::size_t w, std::size_t h, PlotRange r) { return scatter_impl(p, w, h, r); }
TensorU8 scatter_image(const Tensor<double>& p, std::size_t w, std::size_t h, PlotRange r) { return scatter_impl(p, w, h, r); }
void write_scatter_png(const std::string& path, const Tensor<float>& p, std::size_t w, std::size_t h, PlotRange r) {
  write_png(path, scatter_impl(p, w, h, r));
}
void write_scatter_png(const std::string& path, const Tensor<double>& p, std::size_t w, std::size_t h, PlotRange r) {
  write_png(path, scatter_impl(p, w, h, r));
}

}  // namespace fz
