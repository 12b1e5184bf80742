#pragma once
#include <gantry/layer.hpp>
#include <gantry/plugin.hpp>

namespace gantry {

class LabelSlot;

/// A network made by a plugin; the trainer drives its layer().
class GANTRY_API Model : public Plugin {
 public:
  virtual Layer& layer() = 0;
  /// A class-conditional network's labels (conditional.hpp): whoever runs layer() sets the batch's
  /// labels here before each forward(). nullptr for an unconditional network.
  virtual LabelSlot* label_slot() { return nullptr; }
};

/// Maps latent vectors z [N, latent_dim] to samples [N, sample_shape...].
class GANTRY_API Generator : public Model {
 public:
  virtual int64_t latent_dim() const = 0;
};

/// Maps samples [N, sample_shape...] to logits [N / pack(), 1].
class GANTRY_API Discriminator : public Model {
 public:
  /// PacGAN (Lin et al. 2018): how many consecutive samples D reads as one input (its layer starts
  /// with Pack(pack())). The trainer packs real and fake batches apart, so the batch size must be
  /// a multiple of it; gradient penalties interpolate and take norms per packed input.
  virtual int64_t pack() const { return 1; }
};

/// The `pack` parameter every packing discriminator declares the same way.
inline ParamSpec pack_param() {
  return integer_param("pack", 1,
                       "PacGAN packing: m consecutive samples become one input of D, which then gives one logit "
                       "per m samples (train.batch_size must be a multiple of m; 1 = no packing)",
                       1, 64);
}

/// The `condition` parameter of a generator that can condition either way ([train] conditional).
inline ParamSpec condition_param() {
  return string_param("condition", "batch_norm",
                      "conditional: how G sees the class — per-class gain and bias in its batch norms, or a class "
                      "code appended to z",
                      {"batch_norm", "concat"});
}

/// The size of the class embedding that condition = "concat" appends to z.
inline ParamSpec embed_dim_param() {
  return integer_param("embed_dim", 0,
                       "conditional, condition = \"concat\": size of the learned class embedding (0 = one-hot code)",
                       0, 65536);
}

/// Refuses pack > 1 on a conditional discriminator: one packed input holds samples of several
/// classes, so there is no one label to condition on.
GANTRY_API void check_pack_is_unconditional(int64_t pack, int64_t num_classes);

}  // namespace gantry
