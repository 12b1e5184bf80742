// Generator "dcgan" (Radford et al. 2016), sized for small images such as Fashion-MNIST's 28×28:
// z → Linear(2c·H/4·W/4) → [BN] → ReLU → ConvT(2c→c, k4 s2 p1) → [BN] → ReLU → ConvT(c→C, k4 s2 p1) → Tanh
// Class-conditional ([train] conditional), by `condition`: "batch_norm" makes both batch norms
// conditional (per-class gain and bias, as SNGAN's and BigGAN's G), "concat" feeds z ⊕ e(y).
#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/model.hpp>

#include <fmt/format.h>

namespace {

class DcganGenerator final : public gantry::Generator {
 public:
  DcganGenerator(const gantry::Params& p, const gantry::BuildContext& ctx)
      : latent_(p.integer("latent_dim")), condition_(p, ctx.num_classes) {
    const auto& s = ctx.sample_shape;
    if (s.size() != 3 || s[1] % 4 != 0 || s[2] % 4 != 0)
      throw gantry::ConfigError(fmt::format(
          "generator 'dcgan' makes images [C, H, W] with H and W multiples of 4; the data has samples {}",
          gantry::shape_string(s)));
    const int64_t c = p.integer("channels"), h = s[1] / 4, w = s[2] / 4;
    const bool bn = p.boolean("batch_norm");
    if (condition_.conditional_batch_norm() && !bn)
      throw gantry::ConfigError("condition = \"batch_norm\" makes the batch norms conditional, but batch_norm is false");
    gantry::Rng init(gantry::derive_seed(ctx.seed, "generator.init"));
    const int64_t in = condition_.add_input(net_, latent_, init);
    net_.emplace<gantry::Linear>(in, 2 * c * h * w, init);
    net_.emplace<gantry::Reshape>(std::vector<int64_t>{2 * c, h, w});
    if (bn) condition_.add_batch_norm(net_, 2 * c);
    net_.emplace<gantry::Eltwise>(gantry::Activation::relu);
    net_.emplace<gantry::ConvTranspose2d>(2 * c, c, 4, 2, 1, init);
    if (bn) condition_.add_batch_norm(net_, c);
    net_.emplace<gantry::Eltwise>(gantry::Activation::relu);
    net_.emplace<gantry::ConvTranspose2d>(c, s[0], 4, 2, 1, init);
    net_.emplace<gantry::Eltwise>(gantry::Activation::tanh);
  }
  gantry::Layer& layer() override { return net_; }
  int64_t latent_dim() const override { return latent_; }
  gantry::LabelSlot* label_slot() override { return condition_.slot(); }

 private:
  int64_t latent_;
  gantry::GeneratorConditioning condition_;
  gantry::Sequential net_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::generator,
          "dcgan",
          "1.1.0",
          "DCGAN generator: z → Linear → 2c×H/4×W/4 → ConvT(2c→c) → ConvT(c→C) → Tanh, batch norm between",
          {gantry::integer_param("latent_dim", 100, "size of the latent vector z ~ N(0, I)", 1, 65536),
           gantry::integer_param("channels", 64, "c: feature maps of the last hidden layer (the first has 2c)", 1, 4096),
           gantry::boolean_param("batch_norm", true, "batch normalization after the Linear and the first ConvT"),
           gantry::condition_param(), gantry::embed_dim_param()},
          gantry::factory_of<DcganGenerator>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
