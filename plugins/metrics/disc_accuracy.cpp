// disc_accuracy: how well D separates held-out real samples from fresh fakes. A logit above
// `threshold` means "real". Near 0.5 means G fools D; near 1 means D wins easily.
// Class-conditional trials: D sees the real samples' own labels and the labels G drew the fakes
// for (uniform), as in training.
#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/metric.hpp>

#include <fmt/format.h>
#include <vector>

namespace {

class DiscAccuracy final : public gantry::Metric {
 public:
  DiscAccuracy(const gantry::Params& p, const gantry::BuildContext&)
      : samples_(p.integer("samples")), threshold_(static_cast<float>(p.real("threshold"))) {}

  std::vector<double> evaluate(gantry::EvalContext& ctx) override {
    // A packing D (PacGAN) judges m samples at once: the samples are cut to whole packed inputs,
    // and each logit counts as one answer.
    pack_ = ctx.discriminator.pack();
    const int64_t samples = samples_ - samples_ % pack_;
    if (samples == 0)
      throw gantry::ConfigError(fmt::format("metric 'disc_accuracy': samples ({}) is less than the discriminator's pack ({})",
                                            samples_, pack_));
    std::vector<int64_t> shape = ctx.data.sample_shape();
    shape.insert(shape.begin(), samples);
    gantry::Tensor real(shape);
    gantry::LabelSlot* d_labels = ctx.discriminator.label_slot();
    std::vector<int32_t> real_labels(d_labels ? static_cast<size_t>(samples) : 0), fake_labels = real_labels;
    if (d_labels != nullptr) ctx.data.sample_labelled(ctx.rng, real, real_labels);
    else ctx.data.sample(ctx.rng, real);
    gantry::Tensor z({samples, ctx.generator.latent_dim()});
    ctx.rng.fill_normal(z.values());
    if (gantry::LabelSlot* g_labels = ctx.generator.label_slot()) {
      gantry::draw_labels(ctx.rng, g_labels->classes(), fake_labels);
      g_labels->set(fake_labels);
    }
    const gantry::Tensor& fake = ctx.generator.layer().forward(z, gantry::Mode::eval);

    gantry::Layer& d = ctx.discriminator.layer();
    // Copied: D's next forward reuses its output buffer when the batch shape is the same.
    if (d_labels != nullptr) d_labels->set(real_labels);
    const gantry::Tensor real_logits = d.forward(real, gantry::Mode::eval);
    if (d_labels != nullptr) d_labels->set(fake_labels);
    const gantry::Tensor& fake_logits = d.forward(fake, gantry::Mode::eval);
    int64_t tp = 0, fp = 0;
    for (float l : real_logits.values()) tp += l > threshold_;
    for (float l : fake_logits.values()) fp += l > threshold_;
    return score(tp, fp, samples / pack_);
  }

  std::vector<std::pair<std::string, std::string>> notes() const override {
    if (pack_ == 1) return {};
    return {{"pack", std::to_string(pack_)},
            {"inputs", fmt::format("{} real and {} fake packed inputs of {} samples", samples_ / pack_, samples_ / pack_, pack_)}};
  }

  /// Accuracy and F1 from true positives (real called real) and false positives (fake called
  /// real) over n real and n fake samples.
  static std::vector<double> score(int64_t tp, int64_t fp, int64_t n) {
    const int64_t tn = n - fp, fn = n - tp;
    const double accuracy = static_cast<double>(tp + tn) / static_cast<double>(2 * n);
    const double denom = static_cast<double>(2 * tp + fp + fn);
    const double f1 = denom > 0 ? 2.0 * static_cast<double>(tp) / denom : 0.0;
    return {accuracy, f1};
  }

 private:
  int64_t samples_;
  float threshold_;
  int64_t pack_ = 1;
};

// Primary key: accuracy, the figure the metric is named after; lower means G fools D more.
std::vector<gantry::MetricKey> metric_keys() {
  using gantry::Direction;
  return {{"accuracy", Direction::lower_is_better, "fraction of real and fake samples D classifies right (0.5 = fooled)"},
          {"f1", Direction::lower_is_better, "F1 score of D with real as the positive class"}};
}

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::metric, "disc_accuracy", "1.1.0",
          "discriminator accuracy and F1 on held-out real vs fresh fake samples (per packed input with PacGAN)",
          {gantry::integer_param("samples", 2500, "real and fake samples each", 1, 10000000),
           gantry::real_param("threshold", 0.0, "logit above which D's answer is 'real'", {}, {})},
          gantry::factory_of<DiscAccuracy>(),
          metric_keys(), "accuracy"};
}

}  // namespace

GANTRY_PLUGIN(describe)
