// cli/study_flow_commands.cpp — `flowzoo inspect` and `flowzoo latents`: looking inside a
// trained flow. inspect splits the test bits/dim into one term per bijector, per-scale latent
// log-densities and the dequantization constant (flows/logdet_breakdown.hpp); latents writes
// each level's latent channels, reconstructions, latent-space interpolations and samples at
// several temperatures as PNG grids.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/flag_checks.hpp"
#include "cli/loaded_run.hpp"
#include "tensor/parallel.hpp"
#include "cli/outputs.hpp"
#include "cli/run_data.hpp"
#include "datasets/image_write.hpp"
#include "flows/image_likelihood.hpp"
#include "autograd/ops_elementwise.hpp"
#include "flows/logdet_breakdown.hpp"
#include "flows/variational_dequantizer.hpp"
#include "tensor/layout.hpp"
#include "tensor/printable.hpp"

namespace fz::cli {

namespace {

// "2x14x14": shapes without the spaces of shape_str, to keep table columns narrow.
std::string compact_shape(const Shape& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

const char* kind_name(LogdetTermKind k) {
  switch (k) {
    case LogdetTermKind::Bijector: return "bijector";
    case LogdetTermKind::SplitPrior: return "split prior";
    case LogdetTermKind::Base: return "base";
    case LogdetTermKind::Dequantizer: return "dequantizer";
  }
  return "?";
}

void print_table(const LogdetSummary& summary, bool images) {
  const std::vector<LogdetSummary::Row> rows = summary.rows();
  std::size_t wn = 5, wt = 12, ws = 9;
  for (const auto& r : rows) {
    wn = std::max(wn, r.name.size());
    wt = std::max(wt, r.type.size());
    ws = std::max(ws, compact_shape(r.shape_out).size());
  }
  const int iw = static_cast<int>(wn), tw = static_cast<int>(wt), sw = static_cast<int>(ws);
  const char* bpd_head = images ? "bits/dim" : "";
  auto print_row = [&](const std::string& index, const LogdetSummary::Row& r) {
    char bpd[32] = "";
    if (images) std::snprintf(bpd, sizeof bpd, "%10.5f", r.bpd);
    std::printf("%4s  %-*s  %-*s  %-*s  %14.3f  %10s\n", index.c_str(), iw, r.name.c_str(), tw, r.type.c_str(), sw,
                compact_shape(r.shape_out).c_str(), r.mean_nats, bpd);
  };
  // Bijectors in the order encode applies them, then each scale's latent log-density.
  std::printf("%4s  %-*s  %-*s  %-*s  %14s  %10s\n", "#", iw, "layer", tw, "type", sw, "shape out", "log-det (nats)",
              bpd_head);
  std::size_t index = 0;
  for (const auto& r : rows)
    if (r.kind == LogdetTermKind::Bijector) print_row(std::to_string(index++), r);
  std::printf("%4s  %-*s  %-*s  %-*s  %14s\n", "", iw, "latent", tw, "distribution", sw, "shape", "log p (nats)");
  for (const auto& r : rows)
    if (r.kind != LogdetTermKind::Bijector) print_row("", r);
  const int label = iw + tw + sw + 4;
  if (images) {
    std::printf("%4s  %-*s  %14.3f  %10.5f\n", "", label, "dequantization: -D ln 2^bits (bin volume)",
                -summary.constant_nats(), summary.constant_bpd());
    std::printf("%4s  %-*s  %14s  %10.5f\n", "", label, "sum of the rows", "", summary.sum_of_terms_bpd());
    std::printf("%4s  %-*s  %14.3f  %10.5f\n", "", label, "total = mean over images (as flowzoo eval)",
                summary.mean_log_prob() - summary.constant_nats(), summary.total_bpd());
  } else {
    std::printf("%4s  %-*s  %14.5f\n", "", label, "total log p(x) = -NLL (as flowzoo eval)", summary.mean_log_prob());
  }
}

// Latent values mapped to grey: N(0, 1) latents span [-3, 3] -> [0, 1].
float latent_grey(float z) { return std::clamp((z + 3.0f) / 6.0f, 0.0f, 1.0f); }

// A latent batch as (n, C, H, W): 4-D latents as they are; flat ones (NICE) in the data's shape.
Tensor<float> as_images(const Tensor<float>& z, const Shape& event) {
  if (z.dim() == 4) return z;
  const std::size_t n = z.shape().at(0);
  if (event.size() == 3 && z.numel() == n * shape_numel(event))
    return z.clone().reshape({n, event[0], event[1], event[2]});
  throw std::invalid_argument("latents: cannot show a latent of shape " + shape_str(z.shape()) + " as images");
}

// Rows: one per image — the input (when the tile size matches it), then the first `shown`
// channels of its latent, each upscaled by `factor` (nearest neighbour) and in the input's
// colour channels. Returns (n * cols, C_img, factor H, factor W) in [0, 1] and the columns.
std::pair<Tensor<float>, std::size_t> latent_tiles(const Tensor<float>& z, const Tensor<float>& x,
                                                   std::size_t shown) {
  const std::size_t n = z.shape()[0], c = z.shape()[1], h = z.shape()[2], w = z.shape()[3];
  const std::size_t ci = x.shape()[1], h0 = x.shape()[2], w0 = x.shape()[3];
  const std::size_t factor = std::max<std::size_t>(1, h0 / h);
  const std::size_t th = h * factor, tw = w * factor;
  const bool with_input = th == h0 && tw == w0;
  shown = std::min(shown, c);
  const std::size_t cols = shown + (with_input ? 1 : 0);
  Tensor<float> out({n * cols, ci, th, tw});
  const std::size_t tile = ci * th * tw;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t col = 0;
    if (with_input) {
      std::copy(x.data() + i * tile, x.data() + (i + 1) * tile, out.data() + (i * cols) * tile);
      ++col;
    }
    for (std::size_t ch = 0; ch < shown; ++ch, ++col) {
      float* dst = out.data() + (i * cols + col) * tile;
      const float* src = z.data() + ((i * c + ch) * h) * w;
      for (std::size_t k = 0; k < ci; ++k)
        for (std::size_t y = 0; y < th; ++y)
          for (std::size_t xx = 0; xx < tw; ++xx) dst[(k * th + y) * tw + xx] = latent_grey(src[(y / factor) * w + xx / factor]);
    }
  }
  return {out, cols};
}

// Where a picture's tiles are: the first one's top-left pixel, their size, the gap between them.
nlohmann::json tiles_json(const LabelledGridLayout& l) {
  return {{"left", l.left}, {"top", l.top}, {"width", l.cell_width}, {"height", l.cell_height}, {"gap", l.padding}};
}

// Rows [begin, end) of a batch-first float tensor, as a copy.
Tensor<float> rows_of(const Tensor<float>& x, std::size_t begin, std::size_t end) {
  return slice(x, 0, static_cast<long>(begin), static_cast<long>(end));
}


// Trainer::evaluate_images / evaluate_continuous term by term: eval mode, averaged weights if
// any, the same batches and the same dequantization draw, so the total is theirs exactly.
LogdetSummary evaluate_breakdown(Trainer<float>& trainer, const RunData& data, bool train_split, std::size_t limit,
                                 std::uint64_t seed, std::size_t depth) {
  FlowModel<float>& model = trainer.model();
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::unique_ptr<EmaScope<float>> averaged;
  if (trainer.ema()) averaged = std::make_unique<EmaScope<float>>(*trainer.ema());
  const int bits = trainer.options().bits;
  LogdetSummary summary(model.dims(), bits);
  if (data.toy) {
    const std::size_t n = limit ? limit : 20000;
    const Tensor<float> x = train_split ? data.toy_batch(1u << 30, n) : data.toy_test(n);
    for (std::size_t b = 0; b < n; b += 2000)
      summary.add(logdet_breakdown(model, Var<float>(rows_of(x, b, std::min(n, b + 2000))), depth));
  } else {
    const ImageDataset& set = train_split ? data.train : data.test;
    const std::size_t n = limit ? std::min(limit, set.size()) : set.size();
    Rng eval_rng(seed, /*stream=*/11);  // Trainer::evaluate_images's generator
    for (std::size_t b = 0; b < n; b += 256) {
      const TensorU8 batch = slice_rows(set.images, b, std::min(n, b + 256));
      if (VariationalDequantizer<float>* q = model.dequantizer()) {
        // The variational bound: the model's terms on q's draw, and -log q(u | x) as one more
        // term; log p becomes log p(y) - log q, the number evaluate_images sums.
        const DequantizedBatch<float> d = q->dequantize(batch, q->draw_noise(batch.shape()[0], eval_rng));
        LogdetBreakdown<float> breakdown = logdet_breakdown(model, d.y, depth);
        LogdetTerm<float> term;
        term.kind = LogdetTermKind::Dequantizer;
        term.name = "dequantizer";
        term.type = "-log q(u | x)";
        term.shape_out = model.event_shape();
        term.per_sample = (-d.log_q).value();
        breakdown.terms.push_back(term);
        breakdown.log_prob = (Var<float>(breakdown.log_prob) - d.log_q).value();
        summary.add(breakdown);
        continue;
      }
      summary.add(logdet_breakdown(model, Var<float>(dequantize<float>(batch, eval_rng, bits)), depth));
    }
  }
  averaged.reset();
  model.train(was_training);
  return summary;
}

}  // namespace

double evaluate_logging_layers(Trainer<float>& trainer, const RunData& data, const RunConfig& config,
                               std::size_t step, const std::string& csv_path) {
  const LogdetSummary summary = evaluate_breakdown(trainer, data, false, data.toy ? 0 : config.eval_limit,
                                                   config.seed, 0);
  const std::vector<LogdetSummary::Row> rows = summary.rows();
  const bool fresh = !std::filesystem::exists(csv_path) || std::filesystem::file_size(csv_path) == 0;
  std::ofstream out(csv_path, std::ios::app);
  if (fresh) {
    out << "step";
    for (const auto& r : rows) out << ',' << r.name;
    out << (data.toy ? ",test_nll\n" : ",dequantization,test_bpd\n");
  }
  char buf[64];
  out << step;
  for (const auto& r : rows) {
    // Each term's share of the total: bits/dim for images, nats of NLL for 2-D data.
    std::snprintf(buf, sizeof buf, ",%.9g", data.toy ? -r.mean_nats : r.bpd);
    out << buf;
  }
  const double total = data.toy ? -summary.mean_log_prob() : summary.total_bpd();
  if (!data.toy) {
    std::snprintf(buf, sizeof buf, ",%.9g", summary.constant_bpd());
    out << buf;
  }
  std::snprintf(buf, sizeof buf, ",%.9g\n", total);
  out << buf;
  if (!out) throw std::runtime_error("train --log-layers: cannot write '" + csv_path + "'");
  return total;
}

int run_inspect(const InspectRequest& req) {
  if (req.split != "test" && req.split != "train")
    throw std::invalid_argument("--split must be 'test' or 'train', got '" + req.split + "'");
  LoadedRun run = load_run(req.checkpoint);
  if (req.threads >= 0) set_num_threads(req.threads);  // --threads
  const RunConfig& c = run.info.config;
  if (c.model.classes)  // its breakdown would need each image's class prior: not written yet
    throw std::invalid_argument("inspect: '" + req.checkpoint + "' is a class-conditional run; inspect reads "
                                "unconditional runs only (flowzoo eval gives its bits/dim and accuracy)");
  RunData data = load_run_data(c, req.split == "train");
  const LogdetSummary summary = evaluate_breakdown(*run.trainer, data, req.split == "train", req.limit, c.seed,
                                                   req.depth);
  const int bits = c.train.bits;
  const bool images = !data.toy;
  if (req.json) {
    nlohmann::json terms = nlohmann::json::array();
    for (const auto& r : summary.rows())
      terms.push_back({{"name", r.name}, {"type", r.type}, {"kind", kind_name(r.kind)}, {"scale", r.scale},
                       {"shape", r.shape_out}, {"mean_nats", r.mean_nats}, {"bpd", r.bpd}});
    nlohmann::json out = {{"checkpoint", req.checkpoint}, {"step", run.info.step}, {"split", req.split},
                          {"model", c.model.model}, {"count", summary.count()}, {"dims", summary.dims()},
                          {"terms", terms}, {"mean_log_prob_nats", summary.mean_log_prob()}};
    if (images) {
      out["bits"] = bits;
      out["constant_bpd"] = summary.constant_bpd();
      out["sum_of_terms_bpd"] = summary.sum_of_terms_bpd();
      out["bpd"] = summary.total_bpd();
    } else {
      out["nll_nats"] = -summary.mean_log_prob();
    }
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  std::printf("%s, step %zu: %s split, %zu %s, D = %zu dims\n", c.model.model.c_str(), run.info.step,
              req.split.c_str(), summary.count(), images ? "images" : "samples", summary.dims());
  if (images) std::printf("means over the images; bits/dim = -nats / (D ln 2); the rows add up to the total\n");
  print_table(summary, images);
  return kExitOk;
}

int run_latents(const LatentsRequest& req) {
  if (req.out_dir.empty()) throw std::invalid_argument("latents: --out DIR is required");
  if (req.split != "test" && req.split != "train")
    throw std::invalid_argument("--split must be 'test' or 'train', got '" + req.split + "'");
  if (req.n == 0 || req.n > 256) throw std::invalid_argument("latents: --n must be between 1 and 256");
  if (req.pairs > 64) throw std::invalid_argument("latents: --pairs must be at most 64");
  if (req.steps < 2 || req.steps > 64) throw std::invalid_argument("latents: --steps must be between 2 and 64");
  if (req.channels == 0) throw std::invalid_argument("latents: --channels must be at least 1");
  if (req.upscale < 1 || req.upscale > 8) throw FlagError("--upscale must be between 1 and 8");
  LoadedRun run = load_run(req.checkpoint);
  if (req.threads >= 0) set_num_threads(req.threads);  // --threads
  const RunConfig& c = run.info.config;
  if (c.is_toy())
    throw std::invalid_argument("latents: '" + req.checkpoint + "' is a 2-D model; latent views need an image model");
  if (c.model.classes)  // encode and the samples would need labels: not written yet
    throw std::invalid_argument("latents: '" + req.checkpoint + "' is a class-conditional run; latents reads "
                                "unconditional runs only (flowzoo sample --class-grid draws from its classes)");
  FlowModel<float>& model = *run.model;
  RunData data = load_run_data(c, req.split == "train");
  const ImageDataset& set = req.split == "test" ? data.test : data.train;
  const std::size_t need = std::max(req.n, 2 * req.pairs);
  if (set.size() < need)
    throw std::invalid_argument("latents: the " + req.split + " split has " + std::to_string(set.size()) +
                                " images, " + std::to_string(need) + " needed");
  std::filesystem::create_directories(req.out_dir);
  const std::string dir = req.out_dir + "/";
  NoGradGuard no_grad;
  model.eval();
  std::unique_ptr<EmaScope<float>> averaged;
  if (run.trainer->ema()) averaged = std::make_unique<EmaScope<float>>(*run.trainer->ema());
  // Bin centres, not a random dequantization: the pictures are reproducible.
  const Tensor<float> all = pixels_to_unit<float>(slice_rows(set.images, 0, need), c.train.bits);
  const Tensor<float> x = rows_of(all, 0, req.n);
  nlohmann::json report = {{"checkpoint", req.checkpoint}, {"step", run.info.step}, {"split", req.split}};
  const std::string title = run_title(c) + ", step " + std::to_string(run.info.step);

  // Per level: the first channels of each image's latent.
  const Encoding<float> enc = model.encode(Var<float>(x));
  nlohmann::json levels = nlohmann::json::array();
  for (std::size_t l = 0; l < enc.latents.size(); ++l) {
    const Tensor<float> z = as_images(enc.latents[l].value(), model.event_shape());
    auto [tiles, cols] = latent_tiles(z, x, req.channels);
    const std::string path = dir + "latents_level" + std::to_string(l) + ".png";
    const Shape shape(enc.latents[l].shape().begin() + 1, enc.latents[l].shape().end());
    const std::size_t shown = std::min(req.channels, z.shape()[1]);
    std::vector<std::string> columns;
    if (cols > shown) columns.push_back("input");
    for (std::size_t ch = 0; ch < shown; ++ch) columns.push_back("ch " + std::to_string(ch));
    std::vector<std::string> image_rows;
    for (std::size_t i = 0; i < req.n; ++i) image_rows.push_back("image " + std::to_string(i + 1));
    const LabelledGridLayout layout = write_image_table(path,
                      title + ": level " + std::to_string(l) + " latent " + compact_shape(shape) +
                          (l + 1 == enc.latents.size() ? " (top)" : " (factored out)"),
                      tiles, cols, image_rows, columns, req.upscale,
                      "grey: latent value from -3 (black) to 3 (white), the first " + std::to_string(shown) +
                          " of " + std::to_string(z.shape()[1]) + " channels");
    std::printf("level %zu: latent %s%s -> %s\n", l, compact_shape(shape).c_str(),
                l + 1 == enc.latents.size() ? " (top)" : " (factored out)", path.c_str());
    levels.push_back({{"shape", shape}, {"file", path}, {"tiles", tiles_json(layout)}});
  }
  report["levels"] = levels;

  // Reconstructions: inputs on the first row, decode(encode(x)) under them.
  const Tensor<float> back = model.decode(enc.latents).value.value();
  double err = 0;
  for (std::size_t i = 0; i < x.numel(); ++i) err = std::max(err, std::abs(static_cast<double>(back[i]) - x[i]));
  const std::string recon = dir + "reconstructions.png";
  std::vector<std::string> numbers;
  for (std::size_t i = 0; i < req.n; ++i) numbers.push_back(std::to_string(i + 1));
  report["reconstructions_tiles"] = tiles_json(write_image_table(recon, title + ": reconstructions", concat({x, back}, 0), req.n, {"input", "decoded"}, numbers,
                    req.upscale, "decoded = decode(encode(input)), max |difference| " + format_significant(err, 3)));
  std::printf("reconstruction: max |decode(encode(x)) - x| = %.3g over %zu images -> %s\n", err, req.n, recon.c_str());
  report["reconstruction_max_abs_error"] = err;
  report["reconstructions"] = recon;

  // Interpolations: a row per pair, x_a, then z = (1 - t) z_a + t z_b at every level for t
  // from 0 to 1 (decoded), then x_b.
  if (req.pairs > 0) {
    const Tensor<float> px = rows_of(all, 0, 2 * req.pairs);
    const Encoding<float> pe = model.encode(Var<float>(px));
    std::vector<Tensor<float>> rows;
    for (std::size_t p = 0; p < req.pairs; ++p) {
      std::vector<Var<float>> mixed;
      for (const Var<float>& level : pe.latents) {
        const Tensor<float>& z = level.value();
        const std::size_t per = z.numel() / z.shape()[0];
        Shape shape = z.shape();
        shape[0] = req.steps;
        Tensor<float> m(shape);
        for (std::size_t k = 0; k < req.steps; ++k) {
          const float t = static_cast<float>(k) / static_cast<float>(req.steps - 1);
          const float* za = z.data() + (2 * p) * per;
          const float* zb = z.data() + (2 * p + 1) * per;
          for (std::size_t j = 0; j < per; ++j) m.data()[k * per + j] = (1 - t) * za[j] + t * zb[j];
        }
        mixed.emplace_back(m);
      }
      rows.push_back(rows_of(px, 2 * p, 2 * p + 1));
      rows.push_back(model.decode(mixed).value.value());
      rows.push_back(rows_of(px, 2 * p + 1, 2 * p + 2));
    }
    const std::string path = dir + "interpolations.png";
    std::vector<std::string> pair_rows, columns = {"x_a"};
    for (std::size_t p = 0; p < req.pairs; ++p) pair_rows.push_back("pair " + std::to_string(p + 1));
    for (std::size_t k = 0; k < req.steps; ++k)
      columns.push_back("t=" + format_significant(static_cast<double>(k) / static_cast<double>(req.steps - 1), 2));
    columns.push_back("x_b");
    report["interpolations_tiles"] =
        tiles_json(write_image_table(path, title + ": interpolations", concat(rows, 0), req.steps + 2, pair_rows,
                                     columns, req.upscale,
                                     "decode((1 - t) z_a + t z_b) at every level, between the inputs x_a and x_b"));
    std::printf("interpolations: %zu pairs, %zu steps each, between the two inputs -> %s\n", req.pairs, req.steps,
                path.c_str());
    report["interpolations"] = path;
  }

  // Samples at several temperatures, a row of 8 each, the same latent noise in every row
  // (what `flowzoo sample --temperatures` writes).
  int status = kExitOk;
  if (!req.temperatures.empty()) {
    SampleRequest s;
    s.checkpoint = req.checkpoint;
    s.n = 8;
    s.temperatures = req.temperatures;
    s.seed = req.seed;
    s.out = dir + "samples_temperatures.png";
    s.upscale = req.upscale;
    status = run_sample(s);
    report["samples"] = s.out;
    report["temperatures"] = req.temperatures;
  }
  std::ofstream(dir + "latents.json") << report.dump(2) << "\n";
  return status;
}

}  // namespace fz::cli
