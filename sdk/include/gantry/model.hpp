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

/// Maps samples [N, sample_shape...] to logits [N, 1].
class GANTRY_API Discriminator : public Model {};

}  // namespace gantry
