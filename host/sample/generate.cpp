#include "sample/generate.hpp"

#include "plot/plot.hpp"
#include "store/checkpoints.hpp"

#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/random.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

namespace gantry {

namespace {

const CheckpointRow& checkpoint_at(int64_t run_id, std::optional<int64_t> step,
                                   const std::vector<CheckpointRow>& rows, const std::filesystem::path& db_path) {
  if (rows.empty())
    throw ConfigError(fmt::format("run {} has no checkpoints in {} (a run saves one at its end and every [train] "
                                  "checkpoint_every steps; runs made before gantry kept checkpoints have none)",
                                  run_id, checkpoint_root(db_path).string()));
  if (!step) return rows.front();  // newest first
  const auto it = std::find_if(rows.begin(), rows.end(), [&](const CheckpointRow& r) { return r.step == *step; });
  if (it != rows.end()) return *it;
  std::vector<int64_t> steps;
  for (const CheckpointRow& r : rows) steps.push_back(r.step);
  std::sort(steps.begin(), steps.end());
  throw ConfigError(fmt::format("run {} has no checkpoint at step {} (it has step{} {})", run_id, *step,
                                steps.size() == 1 ? "" : "s", fmt::join(steps, ", ")));
}

}  // namespace

LoadedGenerator load_generator(Database& db, const std::filesystem::path& db_path, const Registry& registry,
                               int64_t run_id, std::optional<int64_t> step, std::optional<GeneratorCopy> copy) {
  LoadedGenerator g{load_stored_trial(db, registry, run_id, db_path), {}, 0, GeneratorCopy::raw};
  const std::vector<CheckpointRow> rows = db.table_exists("checkpoints") ? run_checkpoints(db, run_id) : std::vector<CheckpointRow>{};
  const CheckpointRow& row = checkpoint_at(run_id, step, rows, db_path);
  const bool has_ema = g.trial.config().train.real("g_ema") > 0;
  if (copy == GeneratorCopy::ema && !has_ema)
    throw ConfigError(fmt::format("run {} kept no EMA generator ([train] g_ema = 0): use --raw, or leave both out", run_id));
  g.copy = copy.value_or(has_ema ? GeneratorCopy::ema : GeneratorCopy::raw);
  g.step = row.step;
  // Metrics are not needed to sample, and some load large feature networks.
  TrialConfig bare = g.trial.config();
  bare.metrics.clear();
  g.models = build_trial_models(bare);
  const auto file = checkpoint_root(db_path) / row.file;
  restore_networks(read_checkpoint_tensors(file, row.sha256), file, bare, g.models, g.copy, false);
  return g;
}

Tensor generation_latents(uint64_t seed, int64_t count, int64_t latent_dim) {
  Tensor z({count, latent_dim});
  Rng(derive_seed(seed, "generate.z")).fill_normal(z.values());
  return z;
}

Tensor interpolation_latents(uint64_t seed, int64_t rows, int64_t k, int64_t latent_dim) {
  const Tensor ends = generation_latents(seed, 2 * rows, latent_dim);
  Tensor z({rows * k, latent_dim});
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = ends.data() + 2 * r * latent_dim;
    const float* b = a + latent_dim;
    double dot = 0, na = 0, nb = 0;
    for (int64_t i = 0; i < latent_dim; ++i) dot += double{a[i]} * b[i], na += double{a[i]} * a[i], nb += double{b[i]} * b[i];
    const double omega = std::acos(std::clamp(dot / std::sqrt(na * nb), -1.0, 1.0));
    for (int64_t s = 0; s < k; ++s) {
      const double t = k == 1 ? 0.0 : static_cast<double>(s) / static_cast<double>(k - 1);
      // Nearly parallel ends: slerp's weights tend to the straight line's.
      const bool flat = std::sin(omega) < 1e-6;
      const double wa = flat ? 1 - t : std::sin((1 - t) * omega) / std::sin(omega);
      const double wb = flat ? t : std::sin(t * omega) / std::sin(omega);
      float* out = z.data() + (r * k + s) * latent_dim;
      for (int64_t i = 0; i < latent_dim; ++i) out[i] = static_cast<float>(wa * a[i] + wb * b[i]);
    }
  }
  return z;
}

Tensor generate_samples(LoadedGenerator& g, const Tensor& z, std::span<const int32_t> labels) {
  if (LabelSlot* slot = g.models.generator->label_slot(); slot != nullptr) {
    GANTRY_ASSERT(static_cast<int64_t>(labels.size()) == z.dim(0));
    slot->set(labels);
  }
  return g.models.generator->layer().forward(z, Mode::eval);
}

std::string npy_bytes(const Tensor& t, const std::vector<int64_t>& shape) {
  GANTRY_ASSERT(element_count(shape) == t.size());
  // numpy writes a 1-tuple as "(n,)"; the header is padded with spaces so the data starts at a
  // multiple of 64 bytes, and ends with a newline.
  std::string dims;
  for (int64_t d : shape) dims += fmt::format("{}, ", d);
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  else if (!dims.empty()) dims.pop_back();
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<uint16_t>(header.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(t.data()), static_cast<size_t>(t.size()) * sizeof(float));
  return out;
}

namespace {

enum class OutputKind { png, npy, folder };

OutputKind output_kind(const std::filesystem::path& out) {
  std::error_code ec;
  if (out.extension().empty() || std::filesystem::is_directory(out, ec)) return OutputKind::folder;
  if (out.extension() == ".png") return OutputKind::png;
  if (out.extension() == ".npy") return OutputKind::npy;
  throw ConfigError(fmt::format("-o {}: unknown output type '{}' (use .png for a picture, .npy for an array, or a "
                                "folder for one PNG per sample)",
                                out.string(), out.extension().string()));
}

void write_file(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) throw Error(fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
}

// The labels G makes each sample for: classes in turn, or one class per interpolation row.
std::vector<int32_t> sample_labels(const TrialModels& m, const GenerateOptions& o) {
  if (m.num_classes == 0) return {};
  if (o.interpolate == 0) return cyclic_labels(o.count, m.num_classes);
  std::vector<int32_t> labels;
  for (int64_t r = 0; r < o.count; ++r) labels.insert(labels.end(), static_cast<size_t>(o.interpolate), static_cast<int32_t>(r % m.num_classes));
  return labels;
}

// A grid: one interpolation per row, one class per row (conditional), or as square as it gets.
std::string picture(const TrialModels& m, const Tensor& samples, std::span<const int32_t> labels,
                    const GenerateOptions& o, std::string& what) {
  if (m.sample_shape == std::vector<int64_t>{2}) {
    what = fmt::format("a scatter of {} points", samples.dim(0));
    return scatter_png(samples, m.data->modes());
  }
  if (m.sample_shape.size() != 3)
    throw ConfigError(fmt::format("run's samples have shape {}, which gantry cannot draw: write them to a .npy file",
                                  shape_string(m.sample_shape)));
  if (o.interpolate > 0) {
    std::vector<int32_t> rows;
    for (int64_t r = 0; r < o.count; ++r) rows.insert(rows.end(), static_cast<size_t>(o.interpolate), static_cast<int32_t>(r));
    what = fmt::format("a grid of {} interpolations of {} steps", o.count, o.interpolate);
    return class_grid_png(samples, rows, static_cast<int>(o.count), static_cast<int>(o.interpolate));
  }
  if (m.num_classes > 0) {
    const int64_t side = (o.count + m.num_classes - 1) / m.num_classes;
    what = fmt::format("a grid of {} classes × {}", m.num_classes, side);
    return class_grid_png(samples, labels, static_cast<int>(m.num_classes), static_cast<int>(side));
  }
  const auto side = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(o.count))));
  what = fmt::format("a grid of {} images, {} to a row", o.count, side);
  return image_grid_png(samples, static_cast<int>(side));
}

std::string write_folder(const TrialModels& m, const Tensor& samples, const std::filesystem::path& out) {
  if (m.sample_shape.size() != 3)
    throw ConfigError(fmt::format("-o {}: a folder holds one PNG image per sample, but this run's samples have shape {} "
                                  "(write a .png picture or a .npy array)",
                                  out.string(), shape_string(m.sample_shape)));
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) throw Error(fmt::format("cannot create folder {}: {}", out.string(), ec.message()));
  const int64_t n = samples.dim(0);
  const size_t digits = std::max<size_t>(4, std::to_string(n - 1).size());
  for (int64_t i = 0; i < n; ++i)
    write_file(out / fmt::format("{:0{}}.png", i, digits), image_png(samples, i));
  return fmt::format("{} PNG files", n);
}

}  // namespace

GenerateReport generate(Database& db, const std::filesystem::path& db_path, const Registry& registry,
                        const GenerateOptions& o) {
  if (o.count < 1) throw ConfigError(fmt::format("-n {}: the count must be at least 1", o.count));
  if (o.interpolate < 0 || o.interpolate == 1)
    throw ConfigError(fmt::format("--interpolate {}: the steps per row must be at least 2", o.interpolate));
  const OutputKind kind = output_kind(o.out);
  LoadedGenerator g = load_generator(db, db_path, registry, o.run_id, o.step, o.copy);
  const int64_t latent = g.models.generator->latent_dim();
  const Tensor z = o.interpolate > 0 ? interpolation_latents(o.seed, o.count, o.interpolate, latent)
                                     : generation_latents(o.seed, o.count, latent);
  const std::vector<int32_t> labels = sample_labels(g.models, o);
  const Tensor samples = generate_samples(g, z, labels);
  GenerateReport report{g.step, g.copy, {}};
  if (kind == OutputKind::folder) {
    report.what = write_folder(g.models, samples, o.out);
  } else if (kind == OutputKind::png) {
    write_file(o.out, picture(g.models, samples, labels, o, report.what));
  } else {
    std::vector<int64_t> shape{o.count};
    if (o.interpolate > 0) shape.push_back(o.interpolate);
    shape.insert(shape.end(), g.models.sample_shape.begin(), g.models.sample_shape.end());
    write_file(o.out, npy_bytes(samples, shape));
    report.what = fmt::format("a float32 array of shape {}", shape_string(shape));
  }
  return report;
}

}  // namespace gantry
