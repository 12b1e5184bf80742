#pragma once
#include <gantry/data.hpp>
#include <gantry/model.hpp>
#include <gantry/plugin.hpp>
#include <gantry/random.hpp>

#include <string>
#include <vector>

namespace gantry {

/// What a metric sees at an evaluation.
struct EvalContext {
  DataSource& data;
  Generator& generator;
  Discriminator& discriminator;
  const Tensor& generated;  ///< G's samples on the trial's fixed evaluation z, [N, ...]
  Rng& rng;                 ///< seeded per evaluation, for fresh samples
  int64_t step;
  /// The class each row of `generated` was made for (a conditional G: 0, 1, …, K−1, 0, …); empty otherwise.
  std::span<const int32_t> generated_labels = {};
};

class GANTRY_API Metric : public Plugin {
 public:
  /// One value per key, in the order of the descriptor's metric_keys.
  virtual std::vector<double> evaluate(EvalContext& ctx) = 0;
  /// Facts about how the values were measured, read after the first evaluation and stored with
  /// the run as "<metric>.<key>" (e.g. the feature network's hash, the sample count).
  virtual std::vector<std::pair<std::string, std::string>> notes() const { return {}; }
};

}  // namespace gantry
