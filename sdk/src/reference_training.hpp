#pragma once
// The reference classifier's training pass (forward, cross-entropy, backward) on exact_gemm, so
// its weights are the same bits on every machine, whatever the thread count or the CPU. The
// classifier's oneDNN layers still embed images: inference changes no weights.
#include <gantry/api.hpp>
#include <gantry/layer.hpp>

#include <cstdint>
#include <vector>

namespace gantry::detail {

/// Geometry of one 2D convolution on NHWC activations; the weight is OIHW.
struct ConvGeometry {
  int64_t batch, in_channels, height, width, out_channels, kernel, stride, padding;
  int64_t out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
  int64_t out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
  int64_t rows() const { return batch * out_height() * out_width(); }  ///< output pixels
  int64_t taps() const { return in_channels * kernel * kernel; }       ///< inputs per output
};

/// Conv(1,32,k4,s2,p1) ReLU Conv(32,64,k4,s2,p1) ReLU Flatten Linear(3136,128) ReLU Linear(128,10),
/// as ReferenceClassifier builds it. Holds every buffer, so a step allocates nothing.
class GANTRY_API ReferenceTrainer {
 public:
  /// `params`: the eight parameters in layer order (weight, bias per layer); shapes are checked.
  ReferenceTrainer(std::vector<Parameter*> params, int64_t batch);
  /// Mean cross-entropy of images [batch, 1, 28, 28] against `labels`; the parameters' gradients
  /// are replaced by this batch's (call Parameter::zero_grad() first, as before any backward).
  double step(const float* images, const uint8_t* labels);

 private:
  void forward(const float* images);
  void backward();
  void dense_backward(const float* x, int64_t rows, size_t layer, const float* dy, float* dx);
  std::vector<Parameter*> p_;
  int64_t batch_;
  ConvGeometry conv1_, conv2_;
  std::vector<float> cols1_, h1_, cols2_, h2_, flat_, h3_, logits_;          // forward
  std::vector<float> weight_t_, g4_, dh3_, dflat_, dh2_, dcols2_, dh1_, dy_t_;  // backward
  std::vector<Tensor> scratch_;  // one per parameter, for Parameter::write_buffer
};

/// exp(x) from + − × ÷ alone (glibc picks a code path per CPU; this has one).
GANTRY_API double exact_exp(double x);

}  // namespace gantry::detail
