// Discriminator "mlp": samples [N, D] → MLP → one raw logit per sample (no sigmoid: losses
// work on logits for numerical stability).
// Class-conditional ([train] conditional): the last Linear becomes the projection head
// (Miyato & Koyama 2018), logit = ψ(φ(x)) + ⟨E[y], φ(x)⟩ with φ the last hidden layer's output.
#include <gantry/conditional.hpp>
#include <gantry/layers.hpp>
#include <gantry/model.hpp>

namespace {

class MlpDiscriminator final : public gantry::Discriminator {
 public:
  MlpDiscriminator(const gantry::Params& p, const gantry::BuildContext& ctx) {
    gantry::Rng init(gantry::derive_seed(ctx.seed, "discriminator.init"));
    gantry::MlpSpec spec;
    spec.in = gantry::element_count(ctx.sample_shape);
    spec.width = p.integer("width");
    spec.depth = p.integer("depth");
    spec.out = 1;
    spec.activation = gantry::parse_activation(p.string("activation"));
    spec.slope = static_cast<float>(p.real("slope"));
    gantry::ProjectionHead* head = nullptr;
    if (ctx.num_classes > 0) {
      slot_ = std::make_shared<gantry::LabelSlot>(ctx.num_classes);
      head = &projection_body(spec, init).emplace<gantry::ProjectionHead>(spec.depth > 0 ? spec.width : spec.in, slot_, init);
    } else {
      net_ = gantry::make_mlp(spec, init);
    }
    // u and v are drawn after every weight, so the weights are the same with and without it.
    if (p.boolean("spectral_norm")) {
      gantry::apply_spectral_norm(*net_, init);
      if (head != nullptr) head->psi().enable_spectral_norm(init);
    }
  }
  gantry::Layer& layer() override { return *net_; }
  gantry::LabelSlot* label_slot() override { return slot_.get(); }

 private:
  // φ: the hidden layers [Linear(width) → activation] × depth (none at depth 0: φ(x) = x).
  gantry::Sequential& projection_body(gantry::MlpSpec spec, gantry::Rng& init) {
    if (spec.depth == 0) {
      net_ = std::make_unique<gantry::Sequential>();
      return *net_;
    }
    spec.depth -= 1;
    spec.out = spec.width;
    spec.output_activation = spec.activation;
    net_ = gantry::make_mlp(spec, init);
    return *net_;
  }

  std::shared_ptr<gantry::LabelSlot> slot_;
  std::unique_ptr<gantry::Sequential> net_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::discriminator,
          "mlp",
          "1.2.0",
          "fully connected critic: x → [Linear(width) → activation] × depth → Linear(1) logit",
          {gantry::integer_param("width", 256, "units in each hidden layer", 1, 65536),
           gantry::integer_param("depth", 3, "number of hidden layers", 0, 64),
           gantry::string_param("activation", "leaky_relu", "hidden activation", {"relu", "leaky_relu", "tanh", "sigmoid"}),
           gantry::real_param("slope", 0.2, "negative slope when activation is leaky_relu", 0.0, 1.0),
           gantry::boolean_param("spectral_norm", false,
                                 "spectral normalisation of every Linear (Miyato et al. 2018: W/σ(W), one power "
                                 "iteration per training forward)")},
          gantry::factory_of<MlpDiscriminator>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
