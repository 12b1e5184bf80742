// Discriminator "dcgan" (Radford et al. 2016), sized for small images such as Fashion-MNIST's 28×28:
// x → Conv(C→c, k4 s2 p1) → LeakyReLU → Conv(c→2c, k4 s2 p1) → [BN] → LeakyReLU → Linear(2c·H/4·W/4 → 1),
// optionally with spectral norm on the convolutions and the Linear (SNGAN's critic).
// Class-conditional ([train] conditional): the Linear becomes the projection head (Miyato & Koyama
// 2018), logit = ψ(φ) + ⟨E[y], φ⟩ on the flattened features φ; spectral norm then covers ψ and E.
// With pack = m (PacGAN), m consecutive images are stacked along channels: the first convolution
// reads m·C channels and D gives one logit per m images.
// Batch norm is off by default: it couples the samples of a batch, which gradient penalties
// assume away (the trainer then shows D real and fake batches separately).
#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/model.hpp>

#include <fmt/format.h>

namespace {

class DcganDiscriminator final : public gantry::Discriminator {
 public:
  DcganDiscriminator(const gantry::Params& p, const gantry::BuildContext& ctx) : pack_(p.integer("pack")) {
    const auto& s = ctx.sample_shape;
    if (s.size() != 3 || s[1] % 4 != 0 || s[2] % 4 != 0)
      throw gantry::ConfigError(fmt::format(
          "discriminator 'dcgan' reads images [C, H, W] with H and W multiples of 4; the data has samples {}",
          gantry::shape_string(s)));
    const int64_t c = p.integer("channels"), h = s[1] / 4, w = s[2] / 4;
    const float slope = static_cast<float>(p.real("slope"));
    gantry::Rng init(gantry::derive_seed(ctx.seed, "discriminator.init"));
    if (pack_ > 1) net_.emplace<gantry::Pack>(pack_);
    net_.emplace<gantry::Conv2d>(s[0] * pack_, c, 4, 2, 1, init);
    net_.emplace<gantry::Eltwise>(gantry::Activation::leaky_relu, slope);
    net_.emplace<gantry::Conv2d>(c, 2 * c, 4, 2, 1, init);
    if (p.boolean("batch_norm")) net_.emplace<gantry::BatchNorm>(2 * c);
    net_.emplace<gantry::Eltwise>(gantry::Activation::leaky_relu, slope);
    net_.emplace<gantry::Reshape>(std::vector<int64_t>{2 * c * h * w});
    gantry::check_pack_is_unconditional(pack_, ctx.num_classes);
    if (ctx.num_classes > 0) {
      slot_ = std::make_shared<gantry::LabelSlot>(ctx.num_classes);
      net_.emplace<gantry::ProjectionHead>(2 * c * h * w, slot_, init);
    } else {
      net_.emplace<gantry::Linear>(2 * c * h * w, 1, init);
    }
    // u and v are drawn after every weight, so the weights are the same with and without it.
    if (p.boolean("spectral_norm")) gantry::apply_spectral_norm(net_, init);
  }
  gantry::Layer& layer() override { return net_; }
  gantry::LabelSlot* label_slot() override { return slot_.get(); }
  int64_t pack() const override { return pack_; }

 private:
  int64_t pack_;
  std::shared_ptr<gantry::LabelSlot> slot_;
  gantry::Sequential net_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::discriminator,
          "dcgan",
          "1.3.0",
          "DCGAN discriminator: Conv(C→c) → LeakyReLU → Conv(c→2c) → LeakyReLU → Linear → logit",
          {gantry::integer_param("channels", 64, "c: feature maps of the first convolution (the second has 2c)", 1, 4096),
           gantry::real_param("slope", 0.2, "negative slope of the LeakyReLUs", 0.0, 1.0),
           gantry::boolean_param("batch_norm", false, "batch normalization after the second convolution"),
           gantry::boolean_param("spectral_norm", false,
                                 "spectral normalisation of both convolutions and the Linear (Miyato et al. 2018: "
                                 "W/σ(W), one power iteration per training forward)"),
           gantry::pack_param()},
          gantry::factory_of<DcganDiscriminator>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
