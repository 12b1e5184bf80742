#pragma once
// The reference classifier: the feature network of the image metrics (FD, KID, precision/recall,
// density/coverage, class coverage). Inception-v3 is not available offline, so gantry trains a
// small CNN of its own on the Fashion-MNIST training split and caches it on disk under a hash of
// its recipe (architecture, schedule, seed and the data files' SHA-256). Training runs on
// reproducible kernels (no oneDNN), so the weights are the same bits on every x86-64 machine and
// at every thread count, and every value computed with them names the exact weights.
#include <gantry/api.hpp>
#include <gantry/layers.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace gantry {

struct LabelledImages;

class GANTRY_API ReferenceClassifier {
 public:
  using Log = std::function<void(std::string_view)>;
  static constexpr int64_t feature_dim = 128;
  static constexpr int64_t classes = 10;

  /// Folder of cached classifiers: $GANTRY_CACHE_DIR, else $XDG_CACHE_HOME/gantry, else
  /// ~/.cache/gantry.
  static std::filesystem::path cache_dir();
  /// SHA-256 of the recipe and the training files found in `data_dir`.
  static std::string recipe_hash(const std::filesystem::path& data_dir);
  /// The cache file for that recipe (it may not exist yet).
  static std::filesystem::path cache_file(const std::filesystem::path& data_dir);
  /// $GANTRY_FEATURE_NETWORK_DIR: where gantry run puts the study's feature networks for its
  /// trials (empty when unset). A network found there wins over the machine's cache.
  static std::filesystem::path study_dir();
  /// The file name of a recipe's classifier, in the cache and in a study's folder.
  static std::string file_name(const std::string& recipe);
  /// The study's classifier when study_dir() has one for this recipe, else the cached one,
  /// training it first when the cache has none. Concurrent callers (the workers of a sweep) wait
  /// on a lock file while one of them trains.
  static std::unique_ptr<ReferenceClassifier> load_or_train(const std::filesystem::path& data_dir, const Log& log = {});
  /// Trains from scratch and writes the cache file (replacing any).
  static std::unique_ptr<ReferenceClassifier> train(const std::filesystem::path& data_dir, const Log& log = {});
  /// The weights' SHA-256 after the recipe's first `batches` batches, touching no cache: what the
  /// reproducibility check compares across thread counts and machines.
  static std::string weights_after(const std::filesystem::path& data_dir, int64_t batches);
  /// Copies a classifier file (another machine's, `gantry classifier export`) into the cache under
  /// its recipe, replacing what is there; returns it as loaded from its new place.
  static std::unique_ptr<ReferenceClassifier> import_file(const std::filesystem::path& file);
  /// Reads a cache file; throws Error when it is missing, truncated or of another format.
  /// load_cached() says how to replace a damaged one (delete it and train).
  static std::unique_ptr<ReferenceClassifier> load_cached(const std::filesystem::path& file);
  static std::unique_ptr<ReferenceClassifier> load(const std::filesystem::path& file);

  /// Penultimate-layer features [N, 128] (after ReLU) of images [N, 1, 28, 28] in [-1, 1], and
  /// the predicted classes when `predicted` is given; evaluation mode, in chunks.
  void embed(const Tensor& images, Tensor& features, std::vector<int>* predicted = nullptr);
  /// Share of correctly classified images.
  double accuracy(const Tensor& images, const std::vector<uint8_t>& labels);

  double test_accuracy() const { return test_accuracy_; }  ///< measured when trained
  const std::string& recipe() const { return recipe_; }     ///< the recipe hash
  const std::string& weights_sha256() const { return weights_sha256_; }  ///< of the weights' bytes
  const std::filesystem::path& file() const { return file_; }
  double train_seconds() const { return train_seconds_; }

 private:
  ReferenceClassifier();
  static std::filesystem::path file_for(const std::string& recipe);
  static std::unique_ptr<ReferenceClassifier> train_recipe(const std::filesystem::path& data_dir,
                                                           const std::string& recipe, const Log& log);
  void fit(const LabelledImages& train_set, int64_t max_batches, const Log& log);
  void save(const std::filesystem::path& file);
  std::string weights_hash();
  Sequential body_;  // image → features
  Sequential head_;  // features → class logits
  std::string recipe_, weights_sha256_;
  std::filesystem::path file_;
  double test_accuracy_ = 0, train_seconds_ = 0;
  Tensor chunk_;
};

}  // namespace gantry
