#pragma once
// Class-conditional pieces: a network's labels, and the layers that read them.
//
// A conditional network owns one LabelSlot and hands a shared pointer to every label-aware layer
// it builds (LabelConcat, ConditionalBatchNorm, ProjectionHead). Whoever runs the network (the
// trainer, a metric) sets the batch's labels into the slot before forward(); each layer copies
// them at forward() for its backward(), so a later set() cannot change a pending backward. The
// layers stay ordinary single-input Layers: Sequential, the plans and the optimizers see nothing new.
#include <gantry/api.hpp>
#include <gantry/layer.hpp>
#include <gantry/layers.hpp>
#include <gantry/params.hpp>
#include <gantry/random.hpp>

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace gantry {

/// The class labels of the batch a conditional network is about to see.
class GANTRY_API LabelSlot {
 public:
  /// Labels in [0, classes); classes > 0.
  explicit LabelSlot(int64_t classes);
  int64_t classes() const { return classes_; }
  /// Sets the labels of the next forward()'s batch; throws Error naming a label outside [0, classes).
  void set(std::span<const int32_t> labels);
  std::span<const int32_t> labels() const { return labels_; }
  /// The labels for a batch of n samples, copied into `out`; throws Error when the slot holds
  /// another count (`who` names the layer asking).
  void read(int64_t n, const std::string& who, std::vector<int32_t>& out) const;

 private:
  int64_t classes_;
  std::vector<int32_t> labels_;
};

/// Labels 0, 1, …, classes−1, 0, 1, … for n samples: a balanced, fixed assignment (evaluation samples).
GANTRY_API std::vector<int32_t> cyclic_labels(int64_t n, int64_t classes);
/// n labels drawn uniformly from [0, classes) with `rng`.
GANTRY_API void draw_labels(Rng& rng, int64_t classes, std::span<int32_t> out);

// src [N, F], labels [N] → dst [N, F + E]: x followed by the label's embedding row E[y] (learned,
// [classes, E], torch.nn.Embedding's N(0, 1) initialisation) or, with E = 0, its one-hot vector
/// Appends a class embedding (or one-hot code) to each sample: a conditional G's input z ⊕ e(y).
class GANTRY_API LabelConcat final : public Layer {
 public:
  /// embed_dim 0: one-hot of size classes, no parameters.
  LabelConcat(int64_t in_features, int64_t embed_dim, std::shared_ptr<const LabelSlot> slot, Rng& init_rng);
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  std::vector<Parameter*> parameters() override;
  std::string describe() const override;
  int64_t out_features() const { return in_ + width_; }

 private:
  int64_t in_, embed_dim_, width_;
  std::shared_ptr<const LabelSlot> slot_;
  Parameter embedding_;
  std::vector<int32_t> labels_;
  Tensor y_, dx_, d_embedding_;
};

// src [N, C] or [N, C, H, W], labels [N] → dst: x̂ = (x − mean_B)/sqrt(var_B + eps) as BatchNorm
// without affine, then y = γ[label, c]·x̂ + β[label, c] with γ [classes, C] (init 1), β (init 0)
/// Conditional batch normalisation (de Vries et al. 2017; Miyato & Koyama 2018's G): per-class gain and bias.
class GANTRY_API ConditionalBatchNorm final : public Layer {
 public:
  ConditionalBatchNorm(int64_t channels, std::shared_ptr<const LabelSlot> slot, float momentum = 0.1f,
                       float eps = 1e-5f);
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  std::vector<Parameter*> parameters() override { return {&gamma_, &beta_}; }
  /// The normalisation's running mean and variance.
  std::vector<Tensor*> buffers() override { return norm_.buffers(); }
  bool couples_batch() const override { return true; }
  std::string describe() const override;
  Parameter& gamma() { return gamma_; }
  Parameter& beta() { return beta_; }

 private:
  int64_t channels_;
  std::shared_ptr<const LabelSlot> slot_;
  BatchNorm norm_;  // its γ and β stay 1 and 0: never in parameters(), so never trained
  Parameter gamma_, beta_;
  std::vector<int32_t> labels_;
  const Tensor* x_hat_ = nullptr;
  Tensor y_, d_x_hat_, d_gamma_, d_beta_;
};

// φ [N, F], labels [N] → logit [N, 1] = ψ(φ) + ⟨E[y], φ⟩, ψ a Linear(F → 1), E [classes, F]
/// The projection discriminator's head (Miyato & Koyama 2018): an unconditional logit plus the
/// inner product of the features with the label's embedding.
class GANTRY_API ProjectionHead final : public Layer {
 public:
  /// ψ initialised as Linear(F, 1), then E uniform in ±1/sqrt(F) (the same scale as ψ's weights).
  ProjectionHead(int64_t features, std::shared_ptr<const LabelSlot> slot, Rng& init_rng);
  ~ProjectionHead() override;
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  /// Exact gradient penalties on a projection critic: the head is linear in φ.
  bool supports_dual() const override { return true; }
  DualTensors forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode = Mode::train) override;
  DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options = {}) override;
  /// ψ's weight and bias, then E.
  std::vector<Parameter*> parameters() override;
  /// With spectral norm: ψ's u and v, then E's.
  std::vector<Tensor*> buffers() override;
  std::string describe() const override;
  /// Spectral norm on ψ and on E (E read as a [classes, F] matrix, as the SN embeddings of SNGAN's
  /// and BigGAN's projection critics): one power iteration each per training forward.
  void enable_spectral_norm(Rng& init_rng);
  bool spectral_norm() const { return sn_ != nullptr; }
  /// ψ (its weights, σ); normalise through enable_spectral_norm(), which covers E too.
  Linear& psi() { return psi_; }
  /// The trained E (with spectral norm the head computes with E/σ(E)).
  Parameter& embedding() { return embedding_; }

 private:
  const Tensor& used_embedding() const;
  Parameter& embedding_grad_target();
  void finish_embedding_grad();

  int64_t features_;
  std::shared_ptr<const LabelSlot> slot_;
  Linear psi_;
  Parameter embedding_;
  std::unique_ptr<detail::SpectralNorm> sn_;
  std::vector<int32_t> labels_;
  const Tensor* x_ = nullptr;
  const Tensor* x_dot_ = nullptr;
  Tensor y_, y_dot_, dx_, dx_dot_, d_embedding_;
};

/// How a generator sees its class, from its `condition` and `embed_dim` parameters
/// (condition_param(), embed_dim_param() in model.hpp): made once in the generator's constructor,
/// then asked for the input layer and each batch norm, so every generator conditions alike.
class GANTRY_API GeneratorConditioning {
 public:
  /// num_classes 0: unconditional (no slot, plain batch norms, z alone).
  GeneratorConditioning(const Params& p, int64_t num_classes);
  /// The generator's labels, for Generator::label_slot(); nullptr when unconditional.
  LabelSlot* slot() const { return slot_.get(); }
  /// condition = "batch_norm" on a conditional generator: its batch norms take the class.
  bool conditional_batch_norm() const { return batch_norm_; }
  /// With condition = "concat", appends LabelConcat (z ⊕ e(y)) to `net`. Returns the width of what
  /// the next layer reads: `latent`, or latent plus the class code.
  int64_t add_input(Sequential& net, int64_t latent, Rng& init_rng) const;
  /// Appends BatchNorm(channels), or ConditionalBatchNorm when conditional_batch_norm().
  void add_batch_norm(Sequential& net, int64_t channels) const;

 private:
  std::shared_ptr<LabelSlot> slot_;
  bool batch_norm_ = false;
  int64_t embed_dim_ = 0;
};

}  // namespace gantry
