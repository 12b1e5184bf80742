#pragma once
#include <gantry/layer.hpp>
#include <gantry/plugin.hpp>

namespace gantry {

/// A network made by a plugin; the trainer drives its layer().
class GANTRY_API Model : public Plugin {
 public:
  virtual Layer& layer() = 0;
};

/// Maps latent vectors z [N, latent_dim] to samples [N, sample_shape...].
class GANTRY_API Generator : public Model {
 public:
  virtual int64_t latent_dim() const = 0;
};

/// Maps samples [N, sample_shape...] to logits [N, 1].
class GANTRY_API Discriminator : public Model {};

}  // namespace gantry
