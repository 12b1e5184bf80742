// Discriminator "resnet": the ResNet critic of SNGAN's CIFAR experiments (Miyato et al. 2018, after
// Gulrajani et al. 2017), for images whose sides are multiples of 4 (28×28 → 14 → 7, 32×32 → 16 → 8):
//   optimised first block  main: Conv3×3(C→c) → ReLU → Conv3×3(c→c) → AvgPool2;  shortcut: AvgPool2 → Conv1×1(C→c)
//   down block             main: ReLU → Conv3×3 → ReLU → Conv3×3 → AvgPool2;      shortcut: Conv1×1 → AvgPool2
//   two blocks             main: ReLU → Conv3×3 → ReLU → Conv3×3;                 shortcut: identity
//   → ReLU → sum over H and W → Linear(c → 1)
// Pre-activation order (ReLU before each convolution but the first), no batch norm — so it supports
// gradient penalties — and spectral norm on every convolution and the Linear by default.
// Class-conditional ([train] conditional): the Linear becomes the projection head on the pooled
// features (Miyato & Koyama 2018's ResNet critic), with spectral norm on ψ and the embedding.
// With pack = m (PacGAN), m consecutive images are stacked along channels before the first block.
#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/model.hpp>

#include <fmt/format.h>

namespace {

using gantry::Activation;

// The first block sees the image itself: no ReLU on it, and its shortcut pools before the 1×1
// convolution (4× fewer multiply-adds, the same map: both are linear and commute).
std::unique_ptr<gantry::Residual> optimised_block(int64_t in, int64_t c, gantry::Rng& init) {
  auto main = std::make_unique<gantry::Sequential>();
  main->emplace<gantry::Conv2d>(in, c, 3, 1, 1, init);
  main->emplace<gantry::Eltwise>(Activation::relu);
  main->emplace<gantry::Conv2d>(c, c, 3, 1, 1, init);
  main->emplace<gantry::AvgPool2d>(2);
  auto shortcut = std::make_unique<gantry::Sequential>();
  shortcut->emplace<gantry::AvgPool2d>(2);
  shortcut->emplace<gantry::Conv2d>(in, c, 1, 1, 0, init);
  return std::make_unique<gantry::Residual>(std::move(main), std::move(shortcut));
}

std::unique_ptr<gantry::Residual> block(int64_t c, bool down, gantry::Rng& init) {
  auto main = std::make_unique<gantry::Sequential>();
  main->emplace<gantry::Eltwise>(Activation::relu);
  main->emplace<gantry::Conv2d>(c, c, 3, 1, 1, init);
  main->emplace<gantry::Eltwise>(Activation::relu);
  main->emplace<gantry::Conv2d>(c, c, 3, 1, 1, init);
  if (!down) return std::make_unique<gantry::Residual>(std::move(main));
  main->emplace<gantry::AvgPool2d>(2);
  auto shortcut = std::make_unique<gantry::Sequential>();
  shortcut->emplace<gantry::Conv2d>(c, c, 1, 1, 0, init);
  shortcut->emplace<gantry::AvgPool2d>(2);
  return std::make_unique<gantry::Residual>(std::move(main), std::move(shortcut));
}

class ResnetDiscriminator final : public gantry::Discriminator {
 public:
  ResnetDiscriminator(const gantry::Params& p, const gantry::BuildContext& ctx) : pack_(p.integer("pack")) {
    const auto& s = ctx.sample_shape;
    if (s.size() != 3 || s[1] % 4 != 0 || s[2] % 4 != 0)
      throw gantry::ConfigError(fmt::format(
          "discriminator 'resnet' reads images [C, H, W] with H and W multiples of 4 (two 2×2 poolings); the data "
          "has samples {}",
          gantry::shape_string(s)));
    const int64_t c = p.integer("channels");
    gantry::check_pack_is_unconditional(pack_, ctx.num_classes);
    gantry::Rng init(gantry::derive_seed(ctx.seed, "discriminator.init"));
    if (pack_ > 1) net_.emplace<gantry::Pack>(pack_);
    net_.add(optimised_block(s[0] * pack_, c, init));
    net_.add(block(c, true, init));
    net_.add(block(c, false, init));
    net_.add(block(c, false, init));
    net_.emplace<gantry::Eltwise>(Activation::relu);
    net_.emplace<gantry::GlobalSumPool>();
    if (ctx.num_classes > 0) {
      slot_ = std::make_shared<gantry::LabelSlot>(ctx.num_classes);
      net_.emplace<gantry::ProjectionHead>(c, slot_, init);
    } else {
      net_.emplace<gantry::Linear>(c, 1, init);
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
          "resnet",
          "1.1.0",
          "SNGAN's ResNet critic: residual blocks (ReLU, Conv3×3, 2×2 average pooling; two down, two not) → ReLU "
          "→ sum over H×W → Linear → logit",
          {gantry::integer_param("channels", 128, "c: feature maps of every residual block (SNGAN's CIFAR critic)", 1,
                                 4096),
           gantry::boolean_param("spectral_norm", true,
                                 "spectral normalisation of every convolution and the Linear, or with conditioning "
                                 "the projection's ψ and class embedding (Miyato et al. 2018: W/σ(W), one power "
                                 "iteration per training forward)"),
           gantry::pack_param()},
          gantry::factory_of<ResnetDiscriminator>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
