// pixel_quality: how close G's images are to the data's own images, measured in PIXEL SPACE, for
// image data that has no feature network of its own (image_folder, or any [C, H, W] data):
//   fd                  Fréchet distance of the Gaussians fitted to the pooled pixels
//   kid                 unbiased MMD², cubic polynomial kernel, mean over subsets
//   precision/recall    k-NN manifold precision and recall (Kynkäänniemi et al. 2019)
//   density/coverage    Naeem et al. 2020
// Each image is area-pooled to `resolution` × `resolution` per channel and flattened, so that a
// one-pixel shift does not count as a new image and the covariance stays small enough to fit
// from a few thousand samples. These are the formulas of FID, KID and PRDC, but not their
// features: pixel distances reward blur and ignore what a trained network sees, so the numbers
// rank models on one dataset and are comparable with nothing else (not with image_quality's).
// G's images are the trial's evaluation sample (fixed z, `[train] eval_samples`); the reference is
// `reference_samples` draws from the data at each evaluation, with the evaluation's seeded Rng (the
// trainer puts the data's position back afterwards, so measuring does not change training, and a
// resumed trial measures what an uninterrupted one does). Repeated images are dropped from the
// reference: a data set smaller than reference_samples comes round again, and a copy would sit at
// distance 0 from its twin, giving it a k-NN ball of radius 0.
#include <gantry/area_resize.hpp>
#include <gantry/error.hpp>
#include <gantry/feature_stats.hpp>
#include <gantry/metric.hpp>

#include <algorithm>
#include <string_view>
#include <unordered_set>
#include <fmt/format.h>

namespace {

class PixelQuality final : public gantry::Metric {
 public:
  PixelQuality(const gantry::Params& p, const gantry::BuildContext&)
      : resolution_(p.integer("resolution")), reference_samples_(p.integer("reference_samples")),
        kid_subsets_(p.integer("kid_subsets")), kid_subset_size_(p.integer("kid_subset_size")),
        pr_k_(p.integer("pr_k")), dc_k_(p.integer("dc_k")) {
    if (reference_samples_ <= std::max(pr_k_, dc_k_))
      throw gantry::ConfigError(fmt::format(
          "reference_samples ({}) must exceed pr_k and dc_k", reference_samples_));
  }

  // Known only after an evaluation: before one (a resumed attempt reads them first) there are none.
  std::vector<std::pair<std::string, std::string>> notes() const override {
    if (dims_ == 0) return {};
    return {{"features", fmt::format("pixels area-pooled to {0}×{0} per channel ({1} values per image)", resolution_,
                                     dims_)},
            {"reference", fmt::format("{} images drawn from the training data at each evaluation, repeats dropped ({} "
                                      "distinct at the first)", reference_samples_, distinct_)}};
  }

  std::vector<double> evaluate(gantry::EvalContext& ctx) override {
    const std::vector<int64_t> shape = ctx.data.sample_shape();
    check(shape, ctx.generated);
    gantry::Tensor real(std::vector<int64_t>{reference_samples_, shape[0], shape[1], shape[2]});
    ctx.data.sample(ctx.rng, real);
    const gantry::Tensor real_features = distinct_rows(pooled(real, shape)), fake_features = pooled(ctx.generated, shape);
    if (real_features.dim(0) <= std::max(pr_k_, dc_k_))
      throw gantry::ConfigError(fmt::format("metric 'pixel_quality': the data gave only {} distinct images; pr_k and "
                                            "dc_k need more", real_features.dim(0)));
    if (dims_ == 0) distinct_ = real_features.dim(0);
    dims_ = real_features.dim(1);
    const double fd =
        gantry::frechet_distance(gantry::fit_gaussian(real_features), gantry::fit_gaussian(fake_features));
    const double kid =
        gantry::kernel_inception_distance(real_features, fake_features, kid_subsets_, kid_subset_size_, ctx.rng);
    const auto radii = gantry::knn_radii2(real_features, std::vector<int64_t>{pr_k_, dc_k_});
    const gantry::Prdc prdc =
        gantry::precision_recall_density_coverage(real_features, radii[0], radii[1], fake_features, pr_k_, dc_k_);
    return {fd, kid, prdc.precision, prdc.recall, prdc.density, prdc.coverage};
  }

 private:
  /// The rows of x without repeats, in their first order.
  static gantry::Tensor distinct_rows(const gantry::Tensor& x) {
    const int64_t d = x.dim(1);
    std::unordered_set<std::string_view> seen;
    std::vector<int64_t> keep;
    for (int64_t i = 0; i < x.dim(0); ++i)
      if (seen.emplace(reinterpret_cast<const char*>(x.data() + i * d), static_cast<size_t>(d) * sizeof(float)).second)
        keep.push_back(i);
    if (static_cast<int64_t>(keep.size()) == x.dim(0)) return x;
    gantry::Tensor out({static_cast<int64_t>(keep.size()), d});
    for (size_t r = 0; r < keep.size(); ++r) std::copy_n(x.data() + keep[r] * d, d, out.data() + static_cast<int64_t>(r) * d);
    return out;
  }

  /// Each image [C, H, W] area-pooled to [C, r, r], one row per image.
  gantry::Tensor pooled(const gantry::Tensor& images, const std::vector<int64_t>& shape) const {
    const int64_t r = resolution_, n = images.dim(0), c = shape[0], h = shape[1], w = shape[2];
    gantry::Tensor out({n, c * r * r});
    std::vector<double> plane(static_cast<size_t>(h * w));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* src = images.data() + (i * c + ch) * h * w;
        std::copy_n(src, h * w, plane.begin());
        const std::vector<double> small = gantry::area_resize(plane, w, h, 1, r, r);
        std::transform(small.begin(), small.end(), out.data() + (i * c + ch) * r * r,
                       [](double v) { return static_cast<float>(v); });
      }
    return out;
  }

  void check(const std::vector<int64_t>& shape, const gantry::Tensor& generated) const {
    if (shape.size() != 3)
      throw gantry::ConfigError(fmt::format("metric 'pixel_quality' measures images [C, H, W]; the data has samples {}",
                                            gantry::shape_string(shape)));
    if (resolution_ > std::min(shape[1], shape[2]))
      throw gantry::ConfigError(fmt::format("metric 'pixel_quality': resolution {} exceeds the images ({}×{}); "
                                            "it pools, so it must be at most {}",
                                            resolution_, shape[2], shape[1], std::min(shape[1], shape[2])));
    // FD's matrix square roots are Jacobi eigensolves, cubic in the dimension: 768 values (16 × 16 × 3)
    // cost 1,700 times the default grey 64, and 12,288 (64 × 64 × 3) 4,096 times more again.
    if (const int64_t dims = shape[0] * resolution_ * resolution_; dims > max_dims)
      throw gantry::ConfigError(fmt::format("metric 'pixel_quality': resolution {} gives {} values per image ({} "
                                            "channel(s)); FD's covariance allows at most {}, so resolution at most {}",
                                            resolution_, dims, shape[0], max_dims, max_resolution(shape[0])));
    if (generated.rank() == 0 || generated.sample_size() != shape[0] * shape[1] * shape[2])
      throw gantry::PluginError(fmt::format("metric 'pixel_quality': G made samples {}; the data's are {}",
                                            gantry::shape_string(generated.shape()), gantry::shape_string(shape)));
    if (generated.dim(0) <= std::max(pr_k_, dc_k_))
      throw gantry::ConfigError(fmt::format("metric 'pixel_quality': [train] eval_samples ({}) must exceed pr_k and dc_k",
                                            generated.dim(0)));
  }

  static constexpr int64_t max_dims = 768;
  static int64_t max_resolution(int64_t channels) {
    int64_t r = 1;
    while (channels * (r + 1) * (r + 1) <= max_dims) ++r;
    return r;
  }

  int64_t resolution_, reference_samples_, kid_subsets_, kid_subset_size_, pr_k_, dc_k_;
  int64_t dims_ = 0, distinct_ = 0;
};

// Primary key: fd, as image_quality's (lower is better).
std::vector<gantry::MetricKey> metric_keys() {
  using gantry::Direction;
  return {{"fd", Direction::lower_is_better, "Fréchet distance of pooled pixels to the data (pixel space, not FID)"},
          {"kid", Direction::lower_is_better, "kernel distance (unbiased MMD², cubic kernel) of pooled pixels to the data"},
          {"precision", Direction::higher_is_better, "share of samples inside the data's k-NN manifold (pixel space)"},
          {"recall", Direction::higher_is_better, "share of data images inside the samples' k-NN manifold (pixel space)"},
          {"density", Direction::higher_is_better, "Naeem et al. density in pixel space; about 1 when samples match the data"},
          {"coverage", Direction::higher_is_better, "share of the data's k-NN balls holding a sample (pixel space)"}};
}

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::metric,
          "pixel_quality",
          "1.0.0",
          "FD, KID, precision/recall and density/coverage in pixel space (images area-pooled), for image data without a feature network",
          {gantry::integer_param("resolution", 8, "images are area-pooled to resolution × resolution per channel", 1, 64),
           gantry::integer_param("reference_samples", 2000, "real images drawn from the data at each evaluation", 2, 1000000),
           gantry::integer_param("kid_subsets", 100, "KID: random subsets averaged", 1, 10000),
           gantry::integer_param("kid_subset_size", 1000, "KID: images per subset", 2, 100000),
           gantry::integer_param("pr_k", 3, "k of the k-NN manifolds for precision and recall", 1, 1000),
           gantry::integer_param("dc_k", 5, "k of the k-NN balls for density and coverage", 1, 1000)},
          gantry::factory_of<PixelQuality>(),
          metric_keys(), "fd"};
}

}  // namespace

GANTRY_PLUGIN(describe)
