#pragma once
// Private: spectral normalisation of a weighted layer's weight (Miyato et al. 2018), computed as
// torch.nn.utils.spectral_norm does. The weight W [rows, ...] is read as a matrix [rows, cols]
// (PyTorch's dim 0: Linear's [out, in], Conv2d's [out, in·kh·kw]); the layer's primitives compute
// with W/σ, σ = uᵀWv, where u and v are persistent estimates of W's first singular vectors.
// Gradients treat u and v as constants: dL/dW = (Ḡ − ⟨Ḡ, W/σ⟩·u vᵀ)/σ, Ḡ = dL/d(W/σ).
#include <gantry/layer.hpp>
#include <gantry/random.hpp>

namespace gantry::detail {

class SpectralNorm {
 public:
  /// u [rows] and v [cols] drawn from `init_rng` (standard normal, then normalised), u first.
  SpectralNorm(const std::vector<int64_t>& weight_shape, Rng& init_rng);
  /// Writes W/σ into weight().value. With `iterate`, one power iteration first: v ← Wᵀu/‖Wᵀu‖,
  /// u ← Wv/‖Wv‖ (norms below 1e-12 count as 1e-12, as in PyTorch).
  void normalise(const Tensor& w, bool iterate);
  /// What the layer's primitives read (W/σ) and where their weight gradient Ḡ goes.
  Parameter& weight() { return weight_sn_; }
  /// Adds dL/dW, from weight()'s gradient, to `w`'s gradient.
  void add_gradient(Parameter& w);
  /// σ of the last normalise().
  double sigma() const { return sigma_; }
  Tensor u, v;  ///< the layer's buffers (saved with its weights, not trained)

 private:
  int64_t rows_, cols_;
  Parameter weight_sn_;
  Tensor wv_, grad_scratch_;
  float sigma_ = 0;
};

}  // namespace gantry::detail
