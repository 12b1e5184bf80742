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
}

/// A layer with a weight and a bias (Linear, Conv2d, ConvTranspose2d). Its oneDNN primitives are
/// built once per input shape, then only executed.
class GANTRY_API WeightedLayer : public Layer {
 public:
  ~WeightedLayer() override;
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  std::vector<Parameter*> parameters() override { return {&weight_, &bias_}; }
  Parameter& weight() { return weight_; }
  Parameter& bias() { return bias_; }

 protected:
  /// Initialised like PyTorch: weights, then bias, uniform in ±init_bound.
  WeightedLayer(std::vector<int64_t> weight_shape, int64_t outputs, float init_bound, Rng& init_rng);
  /// The primitives for one input shape; throws Error when the shape does not fit the layer.
  virtual std::unique_ptr<detail::WeightedPlan> build_plan(const std::vector<int64_t>& shape) = 0;
  Parameter weight_, bias_;

 private:
  std::map<std::vector<int64_t>, std::unique_ptr<detail::WeightedPlan>> plans_;
  detail::WeightedPlan* last_ = nullptr;
};

// src [N, IC] · weights [OC, IC] + bias [OC] → dst [N, OC]
/// Fully connected layer on oneDNN's inner product; weights in PyTorch's [out, in] layout.
class GANTRY_API Linear final : public WeightedLayer {
 public:
  /// Initialised like PyTorch: weights and bias uniform in ±1/sqrt(in).
  Linear(int64_t in_features, int64_t out_features, Rng& init_rng);
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
  std::string describe() const override;
  size_t size() const { return layers_.size(); }
  Layer& at(size_t i) { return *layers_.at(i); }

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  Tensor empty_;
};

}  // namespace gantry

namespace gantry {

/// in → [Linear(width) → activation] × depth → Linear(out) → optional output activation.
struct MlpSpec {
  int64_t in = 0;
  int64_t width = 256;
  int64_t depth = 3;
  int64_t out = 1;
  Activation activation = Activation::relu;
  float slope = 0.2f;                          ///< for leaky_relu
  std::optional<Activation> output_activation;  ///< none by default
};
GANTRY_API std::unique_ptr<Sequential> make_mlp(const MlpSpec& spec, Rng& init_rng);

}  // namespace gantry
