// Discriminator "mlp": samples [N, D] → MLP → one raw logit per sample (no sigmoid: losses
// work on logits for numerical stability). With pack = m (PacGAN, Lin et al. 2018), m consecutive
// samples are concatenated into one input of m·D features and D gives one logit per m samples.
// Class-conditional ([train] conditional): the last Linear becomes the projection head
// (Miyato & Koyama 2018), logit = ψ(φ(x)) + ⟨E[y], φ(x)⟩ with φ the last hidden layer's output.
// activation = "maxout": each hidden layer is LinearMaxout with `pieces` pieces (Goodfellow et al.
// 2013), the 2D critics of VEEGAN and PacGAN.
#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/model.hpp>

namespace {

class MlpDiscriminator final : public gantry::Discriminator {
 public:
  MlpDiscriminator(const gantry::Params& p, const gantry::BuildContext& ctx) : pack_(p.integer("pack")) {
    gantry::Rng init(gantry::derive_seed(ctx.seed, "discriminator.init"));
    gantry::MlpSpec spec;
    spec.in = gantry::element_count(gantry::packed_sample_shape(ctx.sample_shape, pack_));
    spec.width = p.integer("width");
    spec.depth = p.integer("depth");
    spec.out = 1;
    const bool maxout = p.string("activation") == "maxout";
    if (maxout) spec.maxout_pieces = p.integer("pieces");
    else spec.activation = gantry::parse_activation(p.string("activation"));
    spec.slope = static_cast<float>(p.real("slope"));
    spec.init_std = static_cast<float>(p.real("init_std"));
    net_ = std::make_unique<gantry::Sequential>();
    if (pack_ > 1) net_->emplace<gantry::Pack>(pack_);
    gantry::check_pack_is_unconditional(pack_, ctx.num_classes);
    if (ctx.num_classes > 0) {
      // φ's last layer feeds the projection, which the maxout body does not build.
      if (maxout) throw gantry::ConfigError("activation = \"maxout\" does not combine with class conditioning");
      slot_ = std::make_shared<gantry::LabelSlot>(ctx.num_classes);
      gantry::Sequential& body = projection_body(spec, init);
      body.emplace<gantry::ProjectionHead>(spec.depth > 0 ? spec.width : spec.in, slot_, init);
    } else {
      net_->add(gantry::make_mlp(spec, init));
    }
    // u and v are drawn after every weight, so the weights are the same with and without it.
    if (p.boolean("spectral_norm")) gantry::apply_spectral_norm(*net_, init);
  }
  gantry::Layer& layer() override { return *net_; }
  gantry::LabelSlot* label_slot() override { return slot_.get(); }
  int64_t pack() const override { return pack_; }

 private:
  // φ: the hidden layers [Linear(width) → activation] × depth (none at depth 0: φ(x) = x).
  gantry::Sequential& projection_body(gantry::MlpSpec spec, gantry::Rng& init) {
    if (spec.depth == 0) return *net_;
    spec.depth -= 1;
    spec.out = spec.width;
    spec.output_activation = spec.activation;
    net_ = gantry::make_mlp(spec, init);
    return *net_;
  }

  int64_t pack_;
  std::shared_ptr<gantry::LabelSlot> slot_;
  std::unique_ptr<gantry::Sequential> net_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::discriminator,
          "mlp",
          "1.5.0",
          "fully connected critic: x → [Linear(width) → activation] × depth → Linear(1) logit, optionally packed (PacGAN)",
          {gantry::integer_param("width", 256, "units in each hidden layer", 1, 65536),
           gantry::integer_param("depth", 3, "number of hidden layers", 0, 64),
           gantry::string_param("activation", "leaky_relu",
                                "hidden activation; maxout: each hidden layer is LinearMaxout (PacGAN's 2D critic)",
                                {"relu", "leaky_relu", "tanh", "sigmoid", "maxout"}),
           gantry::integer_param("pieces", 5, "maxout pieces per unit, when activation is maxout", 2, 64),
           gantry::real_param("slope", 0.2, "negative slope when activation is leaky_relu", 0.0, 1.0),
           gantry::real_param("init_std", 0.0,
                              "> 0: Linear weights ~ N(0, init_std²), biases 0 (PacGAN's 0.02); 0: PyTorch's default", 0.0, 10.0),
           gantry::boolean_param("spectral_norm", false,
                                 "spectral normalisation of every Linear (Miyato et al. 2018: W/σ(W), one power "
                                 "iteration per training forward)"),
           gantry::pack_param()},
          gantry::factory_of<MlpDiscriminator>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
