// Generator "mlp": z [N, latent_dim] → MLP → samples [N, D], for the 2D benchmarks. With
// batch_norm = true each hidden Linear is followed by BatchNorm1d before its activation, as in
// PacGAN's 2D generator (Lin et al. 2018: 4 hidden layers of 400 units, ReLU + BN).
// Class-conditional ([train] conditional): z ⊕ e(y) → MLP, e(y) one-hot or a learned embedding.
#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/model.hpp>

#include <fmt/format.h>

namespace {

class MlpGenerator final : public gantry::Generator {
 public:
  MlpGenerator(const gantry::Params& p, const gantry::BuildContext& ctx) : latent_(p.integer("latent_dim")) {
    gantry::Rng init(gantry::derive_seed(ctx.seed, "generator.init"));
    gantry::MlpSpec spec;
    spec.in = latent_;
    if (ctx.num_classes > 0) {
      slot_ = std::make_shared<gantry::LabelSlot>(ctx.num_classes);
      spec.in = conditioned_.emplace<gantry::LabelConcat>(latent_, p.integer("embed_dim"), slot_, init).out_features();
    }
    spec.width = p.integer("width");
    spec.depth = p.integer("depth");
    spec.out = gantry::element_count(ctx.sample_shape);
    spec.activation = gantry::parse_activation(p.string("activation"));
    spec.slope = static_cast<float>(p.real("slope"));
    spec.batch_norm = p.boolean("batch_norm");
    if (p.string("output") != "none") spec.output_activation = gantry::parse_activation(p.string("output"));
    spec.init_std = static_cast<float>(p.real("init_std"));
    net_ = gantry::make_mlp(spec, init);
    if (slot_) conditioned_.add(std::move(net_));  // LabelConcat, then the MLP
  }
  gantry::Layer& layer() override { return slot_ ? static_cast<gantry::Layer&>(conditioned_) : *net_; }
  int64_t latent_dim() const override { return latent_; }
  gantry::LabelSlot* label_slot() override { return slot_.get(); }

 private:
  int64_t latent_;
  std::shared_ptr<gantry::LabelSlot> slot_;
  gantry::Sequential conditioned_;
  std::unique_ptr<gantry::Sequential> net_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::generator,
          "mlp",
          "1.3.0",
          "fully connected generator: z → [Linear(width) → [BN] → activation] × depth → Linear(data dim)",
          {gantry::integer_param("latent_dim", 16, "size of the latent vector z ~ N(0, I)", 1, 65536),
           gantry::integer_param("width", 256, "units in each hidden layer", 1, 65536),
           gantry::integer_param("depth", 3, "number of hidden layers", 0, 64),
           gantry::string_param("activation", "relu", "hidden activation", {"relu", "leaky_relu", "tanh", "sigmoid"}),
           gantry::real_param("slope", 0.2, "negative slope when activation is leaky_relu", 0.0, 1.0),
           gantry::real_param("init_std", 0.0,
                              "> 0: Linear weights ~ N(0, init_std²), biases 0 (PacGAN's 0.02); 0: PyTorch's default", 0.0, 10.0),
           gantry::string_param("output", "none", "activation on the output", {"none", "tanh", "sigmoid"}),
           gantry::integer_param("embed_dim", 0, "conditional: size of the learned class embedding appended to z (0 = one-hot code)", 0, 65536),
           gantry::boolean_param("batch_norm", false,
                                 "BatchNorm1d after each hidden Linear, before its activation (PacGAN's 2D G); "
                                 "evaluation samples use the running statistics")},
          gantry::factory_of<MlpGenerator>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
