#pragma once
#include <gantry/api.hpp>
#include <gantry/layer.hpp>
#include <gantry/random.hpp>

#include <map>
#include <optional>
#include <memory>
#include <string_view>
#include <vector>

namespace gantry {

namespace detail {
struct WeightedPlan;
class SpectralNorm;
}

/// A layer with a weight and a bias (Linear, Conv2d, ConvTranspose2d). Its oneDNN primitives are
/// built once per input shape, then only executed.
class GANTRY_API WeightedLayer : public Layer {
 public:
  ~WeightedLayer() override;
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  bool supports_dual() const override { return true; }
  DualTensors forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode = Mode::train) override;
  DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options = {}) override;
  std::vector<Parameter*> parameters() override { return {&weight_, &bias_}; }
  /// With spectral norm: its u and v.
  std::vector<Tensor*> buffers() override;
  /// The trained weight W (with spectral norm the layer computes with W/σ(W)).
  Parameter& weight() { return weight_; }
  Parameter& bias() { return bias_; }
  bool spectral_norm() const { return sn_ != nullptr; }
  /// σ(W) as of the last forward pass (spectral norm only).
  double spectral_sigma() const;

 protected:
  /// Initialised like PyTorch: weights, then bias, uniform in ±init_bound.
  WeightedLayer(std::vector<int64_t> weight_shape, int64_t outputs, float init_bound, Rng& init_rng);
  /// Spectral normalisation (Miyato et al. 2018), as torch.nn.utils.spectral_norm: the layer
  /// computes with W/σ, σ = uᵀWv, W read as a matrix [weight.dim(0), rest]; each forward in
  /// Mode::train first takes one power iteration (v ← Wᵀu/‖Wᵀu‖, u ← Wv/‖Wv‖), Mode::eval and
  /// forward_dual() take none. Gradients hold u and v constant. u, then v, are drawn from
  /// `init_rng` (normal, normalised) and are buffers(). Linear and Conv2d make this public.
  void enable_spectral_norm(Rng& init_rng);
  /// The primitives for one input shape; throws Error when the shape does not fit the layer.
  /// They must compute with primitive_weight().
  virtual std::unique_ptr<detail::WeightedPlan> build_plan(const std::vector<int64_t>& shape) = 0;
  /// The weight the primitives read and write gradients into: W, or W/σ with spectral norm.
  Parameter& primitive_weight();
  /// ", spectral_norm" when on, for describe().
  std::string describe_suffix() const { return sn_ ? ", spectral_norm" : ""; }
  Parameter weight_, bias_;

 private:
  detail::WeightedPlan& plan_for(const std::vector<int64_t>& shape);
  /// Where a backward pass writes its weight gradient: W's, or with spectral norm W/σ's, cleared
  /// first, which finish_backward() then carries to W's through σ(W).
  Parameter& start_backward(bool weight_grad);
  void finish_backward(bool weight_grad);
  std::map<std::vector<int64_t>, std::unique_ptr<detail::WeightedPlan>> plans_;
  detail::WeightedPlan* last_ = nullptr;
  std::unique_ptr<detail::SpectralNorm> sn_;
};

// src [N, IC] · weights [OC, IC] + bias [OC] → dst [N, OC]
/// Fully connected layer on oneDNN's inner product; weights in PyTorch's [out, in] layout.
class GANTRY_API Linear final : public WeightedLayer {
 public:
  /// Initialised like PyTorch: weights and bias uniform in ±1/sqrt(in).
  Linear(int64_t in_features, int64_t out_features, Rng& init_rng);
  using WeightedLayer::enable_spectral_norm;
  std::string describe() const override;

 private:
  std::unique_ptr<detail::WeightedPlan> build_plan(const std::vector<int64_t>& shape) override;
  int64_t in_, out_;
};

// src [N, IC, H, W] * weights [OC, IC, K, K] + bias [OC] → dst [N, OC, OH, OW],
// OH = (H + 2·padding − K) / stride + 1
/// 2D convolution on oneDNN's convolution primitives; weights in PyTorch's [out, in, kh, kw] layout.
class GANTRY_API Conv2d final : public WeightedLayer {
 public:
  /// Initialised like PyTorch: weights and bias uniform in ±1/sqrt(IC·K·K).
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding, Rng& init_rng);
  using WeightedLayer::enable_spectral_norm;
  std::string describe() const override;

 private:
  std::unique_ptr<detail::WeightedPlan> build_plan(const std::vector<int64_t>& shape) override;
  int64_t in_, out_, kernel_, stride_, padding_;
};

// src [N, IC, H, W] → dst [N, OC, OH, OW], OH = (H − 1)·stride − 2·padding + K
/// Transposed convolution on oneDNN's deconvolution; weights in PyTorch's [in, out, kh, kw] layout.
class GANTRY_API ConvTranspose2d final : public WeightedLayer {
 public:
  /// Initialised like PyTorch: weights and bias uniform in ±1/sqrt(OC·K·K).
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding,
                  Rng& init_rng);
  std::string describe() const override;

 private:
  std::unique_ptr<detail::WeightedPlan> build_plan(const std::vector<int64_t>& shape) override;
  int64_t in_, out_, kernel_, stride_, padding_;
};

enum class Activation { relu, leaky_relu, tanh, sigmoid };

// src [N, ...] → dst [N, ...] elementwise
/// ReLU, LeakyReLU(slope), Tanh or Sigmoid on oneDNN's eltwise primitives.
class GANTRY_API Eltwise final : public Layer {
 public:
  explicit Eltwise(Activation activation, float slope = 0.0f);
  ~Eltwise() override;
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  bool supports_dual() const override { return true; }
  DualTensors forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode = Mode::train) override;
  DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options = {}) override;
  std::string describe() const override;

 private:
  struct Plan;
  Plan& plan_for(const std::vector<int64_t>& shape);
  Activation activation_;
  float slope_;
  std::map<std::vector<int64_t>, std::unique_ptr<Plan>> plans_;
  Plan* last_ = nullptr;
};

/// Parses "relu", "leaky_relu", "tanh", "sigmoid"; throws ConfigError listing them otherwise.
GANTRY_API Activation parse_activation(std::string_view name);
GANTRY_API std::unique_ptr<Layer> make_activation(Activation activation, float slope = 0.2f);

// train: y = γ·(x − mean_B)/sqrt(var_B + eps) + β over N (and H, W) per channel, biased var_B;
//        running ← (1 − momentum)·running + momentum·batch stat, with the unbiased variance
// eval:  the same with the running statistics
/// BatchNorm1d ([N, C]) and BatchNorm2d ([N, C, H, W]) on oneDNN's batch normalization, with
/// PyTorch's conventions (running mean 0 and variance 1 at the start).
class GANTRY_API BatchNorm final : public Layer {
 public:
  explicit BatchNorm(int64_t channels, float momentum = 0.1f, float eps = 1e-5f);
  ~BatchNorm() override;
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  std::vector<Parameter*> parameters() override { return {&gamma_, &beta_}; }
  std::vector<Tensor*> buffers() override { return {&running_mean_, &running_var_}; }
  bool couples_batch() const override { return true; }
  std::string describe() const override;
  Parameter& gamma() { return gamma_; }
  Parameter& beta() { return beta_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }

 private:
  struct Plan;
  Plan& plan_for(const std::vector<int64_t>& shape, Mode mode);
  int64_t channels_;
  float momentum_, eps_;
  Parameter gamma_, beta_;
  Tensor running_mean_, running_var_;
  std::map<std::pair<std::vector<int64_t>, Mode>, std::unique_ptr<Plan>> plans_;
  Plan* last_ = nullptr;
};

/// A layer that gives its input a new shape and keeps its values in order (Reshape, Pack): the
/// forward, backward and dual passes are copies; a subclass says only what the output shape is.
class GANTRY_API ShapeRenamingLayer : public Layer {
 public:
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  bool supports_dual() const override { return true; }
  DualTensors forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode = Mode::train) override;
  DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options = {}) override;

 protected:
  /// The output's shape for input shape `in` (same element count); throws Error when `in` does not fit.
  virtual std::vector<int64_t> out_shape(const std::vector<int64_t>& in) const = 0;

 private:
  std::vector<int64_t> in_shape_;
  Tensor y_, y_dot_;
};

// src [N, ...] → dst [N, shape...] with the same elements per sample (Flatten: shape = {size})
/// Gives each sample a new shape, e.g. [N, 6272] → [N, 128, 7, 7] after a Linear layer.
class GANTRY_API Reshape final : public ShapeRenamingLayer {
 public:
  explicit Reshape(std::vector<int64_t> sample_shape);
  std::string describe() const override;

 private:
  std::vector<int64_t> out_shape(const std::vector<int64_t>& in) const override;
  std::vector<int64_t> sample_shape_;
};
/// [N, C, H, W] → [N, C·H·W]
GANTRY_API std::unique_ptr<Layer> make_flatten(int64_t sample_size);

// src [N, S0, S1, ...] → dst [N/m, m·S0, S1, ...]
/// PacGAN's packing (Lin et al. 2018): m consecutive samples become one input, concatenated along
/// the first sample axis — [N, F] → [N/m, m·F], images [N, C, H, W] → [N/m, m·C, H, W] (stacked
/// along channels). A packing discriminator starts with it and reports Discriminator::pack().
/// Throws Error when N is not a multiple of m.
class GANTRY_API Pack final : public ShapeRenamingLayer {
 public:
  explicit Pack(int64_t m);
  std::string describe() const override;
  int64_t factor() const { return m_; }

 private:
  std::vector<int64_t> out_shape(const std::vector<int64_t>& in) const override;
  int64_t m_;
};
/// The shape of one packed input: {m·S0, S1, ...} for samples {S0, S1, ...}.
GANTRY_API std::vector<int64_t> packed_sample_shape(const std::vector<int64_t>& sample_shape, int64_t m);

/// Spectral normalisation (WeightedLayer::enable_spectral_norm) on every Linear, Conv2d and
/// ProjectionHead (ψ and E) of `net`, in order, looking inside Sequential containers and Residual
/// blocks; other layers are left alone. Returns how many layers it normalised.
GANTRY_API size_t apply_spectral_norm(Layer& net, Rng& init_rng);

/// Layers applied in order.
class GANTRY_API Sequential final : public Layer {
 public:
  Sequential();
  ~Sequential() override;
  template <class L, class... Args>
  L& emplace(Args&&... args) {
    auto layer = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *layer;
    layers_.push_back(std::move(layer));
    return ref;
  }
  void add(std::unique_ptr<Layer> layer) { layers_.push_back(std::move(layer)); }
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  std::vector<Parameter*> parameters() override;
  std::vector<Tensor*> buffers() override;
  bool couples_batch() const override;
  /// True when every layer supports it.
  bool supports_dual() const override;
  /// Throws Error naming the first layer without a dual mode.
  DualTensors forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode = Mode::train) override;
  DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options = {}) override;
  std::string describe() const override;
  size_t size() const { return layers_.size(); }
  Layer& at(size_t i) { return *layers_.at(i); }

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  Tensor empty_;
};

}  // namespace gantry

namespace gantry {

/// in → [Linear(width) → [BatchNorm] → activation] × depth → Linear(out) → optional output activation.
struct MlpSpec {
  int64_t in = 0;
  int64_t width = 256;
  int64_t depth = 3;
  int64_t out = 1;
  Activation activation = Activation::relu;
  float slope = 0.2f;                          ///< for leaky_relu
  std::optional<Activation> output_activation;  ///< none by default
  bool batch_norm = false;                      ///< BatchNorm1d after each hidden Linear (PacGAN's G)
  /// > 0: each hidden layer is LinearMaxout with this many pieces — Linear(width·pieces) → Maxout —
  /// in place of Linear(width) → activation (PacGAN's and VEEGAN's 2D critics: 5 pieces).
  int64_t maxout_pieces = 0;
  /// > 0: every Linear's weights drawn from N(0, init_std²) and its biases zero (the DCGAN and
  /// PacGAN papers' init, std 0.02), in place of PyTorch's default uniform ±1/√fan_in.
  float init_std = 0.0f;
};
GANTRY_API std::unique_ptr<Sequential> make_mlp(const MlpSpec& spec, Rng& init_rng);

}  // namespace gantry

// Image resampling, the residual block and global pooling: the pieces of the ResNet generators and
// critics (SNGAN, WGAN-GP). docs/ARCHITECTURE.md, "Residual networks", says why a residual block is
// a layer holding two Sequentials.
namespace gantry {

namespace detail {
struct ResamplingPlan;
}

/// A parameter-free linear map of images on plain layouts (Upsample2d, AvgPool2d), each the other's
/// adjoint up to a scale. Being linear, its dual mode is the same map on the tangent and the
/// adjoint map on each adjoint stream. Buffers are allocated once per input shape.
class GANTRY_API ResamplingLayer : public Layer {
 public:
  ~ResamplingLayer() override;
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  bool supports_dual() const override { return true; }
  DualTensors forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode = Mode::train) override;
  DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options = {}) override;

 protected:
  ResamplingLayer();
  /// The plan for one input shape; throws Error when the shape does not fit the layer.
  virtual std::unique_ptr<detail::ResamplingPlan> build_plan(const std::vector<int64_t>& shape) = 0;

 private:
  detail::ResamplingPlan& plan_for(const std::vector<int64_t>& shape);
  std::map<std::vector<int64_t>, std::unique_ptr<detail::ResamplingPlan>> plans_;
  detail::ResamplingPlan* last_ = nullptr;
};

// src [N, C, H, W] → dst [N, C, s·H, s·W], each value repeated over an s×s block
/// Nearest-neighbour upsampling, as torch.nn.Upsample(scale_factor=s).
class GANTRY_API Upsample2d final : public ResamplingLayer {
 public:
  explicit Upsample2d(int64_t scale = 2);
  std::string describe() const override;

 private:
  std::unique_ptr<detail::ResamplingPlan> build_plan(const std::vector<int64_t>& shape) override;
  int64_t scale_;
};

// src [N, C, H, W] → dst [N, C, H/k, W/k] (H and W multiples of k), the mean of each k×k block
/// Average pooling with kernel k and stride k, as torch.nn.AvgPool2d(k).
class GANTRY_API AvgPool2d final : public ResamplingLayer {
 public:
  explicit AvgPool2d(int64_t kernel = 2);
  std::string describe() const override;

 private:
  std::unique_ptr<detail::ResamplingPlan> build_plan(const std::vector<int64_t>& shape) override;
  int64_t kernel_;
};

// src [N, U·k] → dst [N, U], y[n, u] = max over p < k of x[n, u·k + p]
/// Maxout (Goodfellow et al. 2013) over `pieces` consecutive features: after a Linear(in, U·k) it
/// is LinearMaxout with U units of k pieces, as in torch's x.view(N, U, k).max(-1). The gradient
/// goes to the piece that won (the first of equal ones); piecewise linear, so the dual pass routes
/// the tangent the same way and its second-order term is zero.
class GANTRY_API Maxout final : public Layer {
 public:
  explicit Maxout(int64_t pieces);
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  bool supports_dual() const override { return true; }
  DualTensors forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode = Mode::train) override;
  DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options = {}) override;
  std::string describe() const override;

 private:
  struct Plan {
    Tensor y, dx, y_dot, x_bar, x_dot_bar;
    std::vector<int32_t> winner;  ///< per output: the index into x of its piece that won
  };
  Plan& plan_for(const std::vector<int64_t>& shape);
  int64_t pieces_;
  std::map<std::vector<int64_t>, Plan> plans_;
  Plan* last_ = nullptr;
};

// src [N, C, H, W] → dst [N, C], the sum over H and W (SNGAN's critic, before its Linear)
/// Global sum pooling, as torch.sum(x, dim=(2, 3)).
class GANTRY_API GlobalSumPool final : public Layer {
 public:
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  bool supports_dual() const override { return true; }
  DualTensors forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode = Mode::train) override;
  DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options = {}) override;
  std::string describe() const override { return "GlobalSumPool"; }

 private:
  struct Plan {
    Tensor y, dx, y_dot, x_bar, x_dot_bar;
  };
  Plan& plan_for(const std::vector<int64_t>& shape);
  std::map<std::vector<int64_t>, Plan> plans_;
  Plan* last_ = nullptr;
};

// src [N, ...] → main(src) + shortcut(src), the shortcut being the identity when absent
/// A residual block: two Sequential branches on the same input whose outputs are added (He et al.
/// 2016). Backward sums the branches' input gradients; parameters(), buffers(), couples_batch()
/// and the dual mode come from both branches, main first.
class GANTRY_API Residual final : public Layer {
 public:
  /// y = main(x) + shortcut(x); without a shortcut, y = main(x) + x.
  explicit Residual(std::unique_ptr<Sequential> main, std::unique_ptr<Sequential> shortcut = nullptr);
  ~Residual() override;
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  std::vector<Parameter*> parameters() override;
  std::vector<Tensor*> buffers() override;
  bool couples_batch() const override;
  /// True when both branches support it.
  bool supports_dual() const override;
  DualTensors forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode = Mode::train) override;
  DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options = {}) override;
  std::string describe() const override;
  Sequential& main() { return *main_; }
  /// The shortcut branch, or nullptr for the identity.
  Sequential* shortcut() { return shortcut_.get(); }

 private:
  struct Plan {
    Tensor y, dx, y_dot, x_bar, x_dot_bar;
  };
  Plan& plan_for(const std::vector<int64_t>& in_shape, const Tensor& main_out, const Tensor& shortcut_out);
  std::unique_ptr<Sequential> main_, shortcut_;
  std::map<std::vector<int64_t>, Plan> plans_;
  Plan* last_ = nullptr;
};

}  // namespace gantry
