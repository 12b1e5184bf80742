// image_quality: how close G's images are to Fashion-MNIST, in the feature space of gantry's
// reference classifier (`gantry classifier info`), the way image-GAN papers measure it:
//   fd              Fréchet distance of the feature Gaussians (FID's formula on our features)
//   kid             kernel distance: unbiased MMD², cubic polynomial kernel, mean over subsets
//   precision/recall    k-NN manifold precision and recall (Kynkäänniemi et al. 2019)
//   density/coverage    Naeem et al. 2020
//   classes         classes the classifier assigns at least `class_share` of the samples to
//   class_entropy   entropy (nats) of the predicted-class histogram; log 10 = 2.303 when uniform
//   class_accuracy  class-conditional G: the classifier's accuracy on samples generated for each
//                   class, averaged over the classes (CAS-like; "does G draw the class it is asked for")
//   intra_fd        class-conditional G: mean over the classes of the FD between the samples generated
//                   for class c and the reference images of class c
// G draws `samples` images from a fixed z (the same at every evaluation), in evaluation mode; a
// conditional G draws them for the classes 0, 1, …, 9, 0, … (balanced). For an unconditional G
// the two class keys are NaN, and its trials do not record them.
// Reference statistics are computed once per trial.
#include <gantry/classifier.hpp>
#include <gantry/error.hpp>
#include <gantry/fashion_mnist.hpp>
#include <gantry/feature_stats.hpp>
#include <gantry/metric.hpp>

#include <gantry/conditional.hpp>

#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <iostream>

namespace {

class ImageQuality final : public gantry::Metric {
 public:
  ImageQuality(const gantry::Params& p, const gantry::BuildContext& ctx)
      : samples_(p.integer("samples")), reference_split_(p.string("reference")),
        reference_samples_(p.integer("reference_samples")), kid_subsets_(p.integer("kid_subsets")),
        kid_subset_size_(p.integer("kid_subset_size")), pr_k_(p.integer("pr_k")), dc_k_(p.integer("dc_k")),
        class_share_(p.real("class_share")), chunk_(p.integer("batch")), seed_(ctx.seed) {
    data_dir_ = p.string("path").empty() ? gantry::default_fashion_mnist_dir() : std::filesystem::path(p.string("path"));
    if (samples_ <= std::max(pr_k_, dc_k_))
      throw gantry::ConfigError(fmt::format("metric 'image_quality': samples ({}) must exceed pr_k and dc_k", samples_));
  }

  std::vector<std::pair<std::string, std::string>> notes() const override {
    if (!classifier_) return {};
    return {{"classifier_sha256", classifier_->weights_sha256()},
            {"classifier_recipe", classifier_->recipe()},
            {"classifier_test_accuracy", fmt::format("{:.4f}", classifier_->test_accuracy())},
            {"samples", std::to_string(samples_)},
            {"reference", fmt::format("fashion_mnist {} split, {} images", reference_split_, reference_.dim(0))}};
  }

  std::vector<double> evaluate(gantry::EvalContext& ctx) override {
    if (ctx.data.sample_shape() != std::vector<int64_t>{1, 28, 28})
      throw gantry::ConfigError(fmt::format(
          "metric 'image_quality' measures 28×28 grey images (fashion_mnist); the data has samples {} "
          "(metric 'pixel_quality' measures any images, in pixel space)",
          gantry::shape_string(ctx.data.sample_shape())));
    prepare_reference();
    generate(ctx.generator);
    std::vector<int> predicted;
    classifier_->embed(images_, features_, &predicted);
    gantry::Rng kid_rng(gantry::derive_seed(seed_, "image_quality.kid"));
    const double fd = gantry::frechet_distance(reference_gaussian_, gantry::fit_gaussian(features_));
    const double kid = gantry::kernel_inception_distance(reference_, features_, kid_subsets_, kid_subset_size_, kid_rng);
    const gantry::Prdc prdc =
        gantry::precision_recall_density_coverage(reference_, reference_pr2_, reference_dc2_, features_, pr_k_, dc_k_);
    std::array<int64_t, gantry::ReferenceClassifier::classes> hist{};
    for (int c : predicted) ++hist[static_cast<size_t>(c)];
    double classes = 0, entropy = 0;
    for (int64_t h : hist) {
      const double q = static_cast<double>(h) / static_cast<double>(predicted.size());
      if (q >= class_share_) classes += 1;
      if (q > 0) entropy -= q * std::log(q);
    }
    const auto [accuracy, intra_fd] = class_scores(predicted);
    return {fd, kid, prdc.precision, prdc.recall, prdc.density, prdc.coverage, classes, entropy, accuracy, intra_fd};
  }

 private:
  // Per-class scores of a conditional G (NaN for an unconditional one): macro accuracy of the
  // classifier against the asked-for classes, and the mean within-class FD.
  std::pair<double, double> class_scores(const std::vector<int>& predicted) const {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (labels_.empty()) return {nan, nan};
    constexpr int64_t k = gantry::ReferenceClassifier::classes;
    std::array<int64_t, k> hits{}, asked{};
    for (size_t i = 0; i < labels_.size(); ++i) {
      ++asked[static_cast<size_t>(labels_[i])];
      hits[static_cast<size_t>(labels_[i])] += predicted[i] == labels_[i];
    }
    double accuracy = 0, fd = 0;
    for (int64_t c = 0; c < k; ++c) {
      const auto cu = static_cast<size_t>(c);
      accuracy += static_cast<double>(hits[cu]) / static_cast<double>(std::max<int64_t>(asked[cu], 1)) / k;
      const gantry::Tensor mine = rows_of_class(features_, labels_, c);
      // A covariance needs two rows: with fewer samples or reference images of a class there is no FD.
      if (mine.dim(0) < 2 || reference_class_gaussians_[cu].dim == 0) fd = nan;
      else fd += gantry::frechet_distance(reference_class_gaussians_[cu], gantry::fit_gaussian(mine)) / k;
    }
    return {accuracy, fd};
  }

  static gantry::Tensor rows_of_class(const gantry::Tensor& x, const std::vector<int32_t>& labels, int64_t c) {
    const int64_t d = x.sample_size();
    int64_t n = 0;
    for (int32_t label : labels) n += label == c;
    gantry::Tensor rows({n, d});
    int64_t r = 0;
    for (size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == c) std::copy_n(x.data() + static_cast<int64_t>(i) * d, d, rows.data() + d * r++);
    return rows;
  }

  void prepare_reference() {
    if (classifier_) return;
    classifier_ = gantry::ReferenceClassifier::load_or_train(
        data_dir_, [](std::string_view line) { std::cerr << "image_quality: " << line << std::endl; });
    const gantry::LabelledImages& ref = gantry::load_fashion_mnist(data_dir_, reference_split_);
    const int64_t n = reference_samples_ > 0 ? std::min(reference_samples_, ref.images.dim(0)) : ref.images.dim(0);
    gantry::Tensor subset({n, 1, 28, 28});
    std::copy_n(ref.images.data(), n * 28 * 28, subset.data());  // the first n: a fixed reference
    classifier_->embed(subset, reference_);
    reference_gaussian_ = gantry::fit_gaussian(reference_);
    const std::vector<int32_t> ref_labels(ref.labels.begin(), ref.labels.begin() + n);
    reference_class_gaussians_.clear();
    for (int64_t c = 0; c < gantry::ReferenceClassifier::classes; ++c) {
      const gantry::Tensor rows = rows_of_class(reference_, ref_labels, c);
      reference_class_gaussians_.push_back(rows.dim(0) >= 2 ? gantry::fit_gaussian(rows) : gantry::FeatureGaussian{});
    }
    auto radii = gantry::knn_radii2(reference_, std::vector<int64_t>{pr_k_, dc_k_});
    reference_pr2_ = std::move(radii[0]);
    reference_dc2_ = std::move(radii[1]);
    z_ = gantry::Tensor({samples_, 0});  // sized on first use, when G's latent size is known
  }

  void generate(gantry::Generator& g) {
    const int64_t latent = g.latent_dim();
    gantry::LabelSlot* slot = g.label_slot();
    if (z_.rank() != 2 || z_.dim(1) != latent) {
      z_ = gantry::Tensor({samples_, latent});
      gantry::Rng(gantry::derive_seed(seed_, "image_quality.z")).fill_normal(z_.values());
      images_ = gantry::Tensor({samples_, 1, 28, 28});
      if (slot != nullptr && slot->classes() != gantry::ReferenceClassifier::classes)
        throw gantry::PluginError(fmt::format("metric 'image_quality': a conditional G over {} classes; "
                                              "Fashion-MNIST has {}", slot->classes(), gantry::ReferenceClassifier::classes));
      if (slot != nullptr) labels_ = gantry::cyclic_labels(samples_, slot->classes());
    }
    gantry::Tensor zc;
    for (int64_t start = 0; start < samples_; start += chunk_) {
      const int64_t m = std::min(chunk_, samples_ - start);
      zc.reshape({m, latent});
      std::copy_n(z_.data() + start * latent, m * latent, zc.data());
      if (slot != nullptr) slot->set(std::span<const int32_t>(labels_).subspan(static_cast<size_t>(start), static_cast<size_t>(m)));
      const gantry::Tensor& x = g.layer().forward(zc, gantry::Mode::eval);
      if (x.sample_size() != 28 * 28)
        throw gantry::PluginError(fmt::format("metric 'image_quality': G made samples {}", gantry::shape_string(x.shape())));
      std::copy_n(x.data(), m * 28 * 28, images_.data() + start * 28 * 28);
    }
  }

  int64_t samples_;
  std::string reference_split_;
  int64_t reference_samples_, kid_subsets_, kid_subset_size_, pr_k_, dc_k_;
  double class_share_;
  int64_t chunk_;
  uint64_t seed_;
  std::filesystem::path data_dir_;
  std::unique_ptr<gantry::ReferenceClassifier> classifier_;
  gantry::Tensor reference_, features_, z_, images_;
  gantry::FeatureGaussian reference_gaussian_;
  std::vector<gantry::FeatureGaussian> reference_class_gaussians_;
  std::vector<int32_t> labels_;  // the classes a conditional G draws the samples for; else empty
  std::vector<float> reference_pr2_, reference_dc2_;
};

// Primary key: fd, the Fréchet distance image-GAN papers rank by (FID's formula).
std::vector<gantry::MetricKey> metric_keys() {
  using gantry::Direction;
  return {{"fd", Direction::lower_is_better, "Fréchet distance of classifier features to the reference split"},
          {"kid", Direction::lower_is_better, "kernel distance (unbiased MMD², cubic kernel) to the reference split"},
          {"precision", Direction::higher_is_better, "share of samples inside the reference k-NN manifold"},
          {"recall", Direction::higher_is_better, "share of reference images inside the samples' k-NN manifold"},
          {"density", Direction::higher_is_better, "Naeem et al. density; about 1 when samples match the data"},
          {"coverage", Direction::higher_is_better, "share of reference k-NN balls holding a sample"},
          {"classes", Direction::higher_is_better, "classes given at least class_share of the samples"},
          {"class_entropy", Direction::higher_is_better, "entropy of the predicted-class histogram, nats"},
          {"class_accuracy", Direction::higher_is_better,
           "conditional G: classifier accuracy on samples generated for each class, averaged over classes", true},
          {"intra_fd", Direction::lower_is_better,
           "conditional G: mean over classes of the FD between class-c samples and class-c reference images", true}};
}

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::metric,
          "image_quality",
          "1.1.0",
          "FD, KID, precision/recall, density/coverage and class coverage against Fashion-MNIST, in the features of gantry's reference classifier",
          {gantry::integer_param("samples", 10000, "images G draws for each evaluation (fixed z)", 10, 1000000),
           gantry::string_param("reference", "test", "the Fashion-MNIST split to compare with", {"test", "train"}),
           gantry::integer_param("reference_samples", 10000, "reference images used (the first ones; 0 = all)", 0, 1000000),
           gantry::integer_param("kid_subsets", 100, "KID: random subsets averaged", 1, 10000),
           gantry::integer_param("kid_subset_size", 1000, "KID: images per subset", 2, 100000),
           gantry::integer_param("pr_k", 3, "k of the k-NN manifolds for precision and recall", 1, 1000),
           gantry::integer_param("dc_k", 5, "k of the k-NN balls for density and coverage", 1, 1000),
           gantry::real_param("class_share", 0.05, "a class counts as generated at this share of the samples (0.05: half its share under a uniform mix)", 0.0, 1.0),
           gantry::integer_param("batch", 500, "images per forward pass of G and of the classifier", 1, 100000),
           gantry::string_param("path", "", "folder with the Fashion-MNIST *-ubyte.gz files; empty = Debian's")},
          gantry::factory_of<ImageQuality>(),
          metric_keys(), "fd", {"reference_classifier"}};
}

}  // namespace

GANTRY_PLUGIN(describe)
