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

// src [N, IC] · weights [OC, IC] + bias [OC] → dst [N, OC]
/// Fully connected layer on oneDNN's inner product; weights in PyTorch's [out, in] layout.
class GANTRY_API Linear final : public Layer {
 public:
  /// Initialised like PyTorch: weights and bias uniform in ±1/sqrt(in).
  Linear(int64_t in_features, int64_t out_features, Rng& init_rng);
  ~Linear() override;
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  std::vector<Parameter*> parameters() override { return {&weight_, &bias_}; }
  std::string describe() const override;
  Parameter& weight() { return weight_; }
  Parameter& bias() { return bias_; }

 private:
  struct Plan;
  Plan& plan_for(int64_t batch);
  int64_t in_, out_;
  Parameter weight_, bias_;
  std::map<int64_t, std::unique_ptr<Plan>> plans_;
  Plan* last_ = nullptr;
};

// src [N, IC, H, W] * weights [OC, IC, K, K] + bias [OC] → dst [N, OC, OH, OW],
// OH = (H + 2·padding − K) / stride + 1
/// 2D convolution on oneDNN's convolution primitives; weights in PyTorch's [out, in, kh, kw] layout.
class GANTRY_API Conv2d final : public Layer {
 public:
  /// Initialised like PyTorch: weights and bias uniform in ±1/sqrt(IC·K·K).
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding, Rng& init_rng);
  ~Conv2d() override;
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  std::vector<Parameter*> parameters() override { return {&weight_, &bias_}; }
  std::string describe() const override;
  Parameter& weight() { return weight_; }
  Parameter& bias() { return bias_; }

 private:
  struct Plan;
  Plan& plan_for(const std::vector<int64_t>& shape);
  int64_t in_, out_, kernel_, stride_, padding_;
  Parameter weight_, bias_;
  std::map<std::vector<int64_t>, std::unique_ptr<Plan>> plans_;
  Plan* last_ = nullptr;
};

// src [N, IC, H, W] → dst [N, OC, OH, OW], OH = (H − 1)·stride − 2·padding + K
/// Transposed convolution on oneDNN's deconvolution; weights in PyTorch's [in, out, kh, kw] layout.
class GANTRY_API ConvTranspose2d final : public Layer {
 public:
  /// Initialised like PyTorch: weights and bias uniform in ±1/sqrt(OC·K·K).
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding,
                  Rng& init_rng);
  ~ConvTranspose2d() override;
  const Tensor& forward(const Tensor& x, Mode mode = Mode::train) override;
  const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) override;
  std::vector<Parameter*> parameters() override { return {&weight_, &bias_}; }
  std::string describe() const override;
  Parameter& weight() { return weight_; }
  Parameter& bias() { return bias_; }

 private:
  struct Plan;
  Plan& plan_for(const std::vector<int64_t>& shape);
  int64_t in_, out_, kernel_, stride_, padding_;
  Parameter weight_, bias_;
  std::map<std::vector<int64_t>, std::unique_ptr<Plan>> plans_;
  Plan* last_ = nullptr;
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
