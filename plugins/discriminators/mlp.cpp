// Discriminator "mlp": samples [N, D] → MLP → one raw logit per sample (no sigmoid: losses
// work on logits for numerical stability). With pack = m (PacGAN, Lin et al. 2018), m consecutive
// samples are concatenated into one input of m·D features and D gives one logit per m samples.
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
    spec.activation = gantry::parse_activation(p.string("activation"));
    spec.slope = static_cast<float>(p.real("slope"));
    net_ = std::make_unique<gantry::Sequential>();
    if (pack_ > 1) net_->emplace<gantry::Pack>(pack_);
    net_->add(gantry::make_mlp(spec, init));
    // u and v are drawn after every weight, so the weights are the same with and without it.
    if (p.boolean("spectral_norm")) gantry::apply_spectral_norm(*net_, init);
  }
  gantry::Layer& layer() override { return *net_; }
  int64_t pack() const override { return pack_; }

 private:
  int64_t pack_;
  std::unique_ptr<gantry::Sequential> net_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::discriminator,
          "mlp",
          "1.2.0",
          "fully connected critic: x → [Linear(width) → activation] × depth → Linear(1) logit, optionally packed (PacGAN)",
          {gantry::integer_param("width", 256, "units in each hidden layer", 1, 65536),
           gantry::integer_param("depth", 3, "number of hidden layers", 0, 64),
           gantry::string_param("activation", "leaky_relu", "hidden activation", {"relu", "leaky_relu", "tanh", "sigmoid"}),
           gantry::real_param("slope", 0.2, "negative slope when activation is leaky_relu", 0.0, 1.0),
           gantry::boolean_param("spectral_norm", false,
                                 "spectral normalisation of every Linear (Miyato et al. 2018: W/σ(W), one power "
                                 "iteration per training forward)"),
           gantry::pack_param()},
          gantry::factory_of<MlpDiscriminator>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
