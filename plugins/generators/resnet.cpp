// Generator "resnet": the ResNet generator of SNGAN's CIFAR experiments (Miyato et al. 2018, after
// Gulrajani et al. 2017), sized for 32×32 images (CIFAR) and 28×28 ones (Fashion-MNIST):
// z → Linear(c·b·b) → [c, b, b] → up blocks → BN → ReLU → Conv3×3(c→C) → Tanh, with b = 4 and three
// up blocks (4→8→16→32) or b = 7 and two (7→14→28). An up block is a Residual layer:
//   main:     BN → ReLU → Upsample×2 (nearest) → Conv3×3(c→c) → BN → ReLU → Conv3×3(c→c)
//   shortcut: Upsample×2 → Conv1×1(c→c)
// Class-conditional ([train] conditional), by `condition`: "batch_norm" makes the blocks' batch
// norms conditional (per-class gain and bias; the final BN stays plain, as in SNGAN's projection
// code), "concat" feeds z ⊕ e(y).
#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/model.hpp>

#include <fmt/format.h>

namespace {

// The block's batch norms take the class when `condition` says so.
std::unique_ptr<gantry::Residual> up_block(int64_t c, const gantry::GeneratorConditioning& condition, gantry::Rng& init) {
  auto main = std::make_unique<gantry::Sequential>();
  condition.add_batch_norm(*main, c);
  main->emplace<gantry::Eltwise>(gantry::Activation::relu);
  main->emplace<gantry::Upsample2d>(2);
  main->emplace<gantry::Conv2d>(c, c, 3, 1, 1, init);
  condition.add_batch_norm(*main, c);
  main->emplace<gantry::Eltwise>(gantry::Activation::relu);
  main->emplace<gantry::Conv2d>(c, c, 3, 1, 1, init);
  auto shortcut = std::make_unique<gantry::Sequential>();
  shortcut->emplace<gantry::Upsample2d>(2);
  shortcut->emplace<gantry::Conv2d>(c, c, 1, 1, 0, init);
  return std::make_unique<gantry::Residual>(std::move(main), std::move(shortcut));
}

class ResnetGenerator final : public gantry::Generator {
 public:
  ResnetGenerator(const gantry::Params& p, const gantry::BuildContext& ctx)
      : latent_(p.integer("latent_dim")), condition_(p, ctx.num_classes) {
    const auto& s = ctx.sample_shape;
    const bool supported = s.size() == 3 && s[1] == s[2] && (s[1] == 28 || s[1] == 32);
    if (!supported)
      throw gantry::ConfigError(fmt::format(
          "generator 'resnet' makes images [C, 28, 28] or [C, 32, 32]; the data has samples {}",
          gantry::shape_string(s)));
    const int64_t c = p.integer("channels"), base = s[1] == 32 ? 4 : 7, blocks = s[1] == 32 ? 3 : 2;
    gantry::Rng init(gantry::derive_seed(ctx.seed, "generator.init"));
    const int64_t in = condition_.add_input(net_, latent_, init);
    net_.emplace<gantry::Linear>(in, c * base * base, init);
    net_.emplace<gantry::Reshape>(std::vector<int64_t>{c, base, base});
    for (int64_t i = 0; i < blocks; ++i) net_.add(up_block(c, condition_, init));
    net_.emplace<gantry::BatchNorm>(c);  // plain even when conditional, as in SNGAN's projection code
    net_.emplace<gantry::Eltwise>(gantry::Activation::relu);
    net_.emplace<gantry::Conv2d>(c, s[0], 3, 1, 1, init);
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
          "resnet",
          "1.1.0",
          "SNGAN's ResNet generator for 28×28 or 32×32 images: z → Linear → residual up blocks (BN, ReLU, "
          "nearest ×2, Conv3×3) → BN → ReLU → Conv3×3 → Tanh",
          {gantry::integer_param("latent_dim", 128, "size of the latent vector z ~ N(0, I)", 1, 65536),
           gantry::integer_param("channels", 128,
                                 "c: feature maps of every residual block (SNGAN's CIFAR generator has 256)", 1, 4096),
           gantry::condition_param(), gantry::embed_dim_param()},
          gantry::factory_of<ResnetGenerator>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
