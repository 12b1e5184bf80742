#pragma once
#include <gantry/api.hpp>
#include <gantry/tensor.hpp>

#include <memory>
#include <string>
#include <vector>

namespace gantry {

/// A trainable tensor and the gradient accumulated into it since the last zero_grad().
/// The gradient is private: after zero_grad() its buffer holds stale numbers that only the
/// accumulation API knows to ignore.
class GANTRY_API Parameter {
 public:
  /// A parameter named `name` (e.g. "weight") with a gradient of the value's shape.
  Parameter(std::string param_name, Tensor initial);

  std::string name;
  Tensor value;

  /// Forgets the gradient: readers see zeros and the next write replaces it (no memset).
  void zero_grad() { grad_is_zero_ = true; }
  /// True after zero_grad() until something is accumulated.
  bool grad_is_zero() const { return grad_is_zero_; }
  /// Adds `delta` (the value's size) into the gradient.
  void accumulate(const Tensor& delta);
  /// Where a backward pass writes this pass's gradient: the gradient itself right after
  /// zero_grad() (so the first pass costs no copy), otherwise `scratch`. Follow with commit().
  Tensor& write_buffer(Tensor& scratch);
  /// Makes what was written into write_buffer(scratch) part of the gradient.
  void commit(const Tensor& scratch);
  /// The gradient, materialising zeros when nothing was accumulated.
  const Tensor& gradient();

 private:
  Tensor grad_;
  bool grad_is_zero_ = true;
};

enum class Mode { train, eval };

/// What a backward pass computes: the generator step needs only D's input gradient.
struct BackwardOptions {
  bool input_grad = true;
  bool weight_grad = true;
};

/// A primal tensor and its tangent (forward_dual) or their two adjoints (backward_dual), owned by
/// the layer that returned them. An empty tensor stands for zeros.
struct DualTensors {
  const Tensor* value;
  const Tensor* tangent;
};

/// A differentiable layer. forward() keeps what backward() needs; the input passed to forward()
/// must stay alive and unchanged until the matching backward(), which runs at most once per
/// forward(). Both return references to buffers owned by the layer, valid until the next call
/// with the same batch shape — a layer may reuse its output's buffer for the input gradient.
class GANTRY_API Layer {
 public:
  virtual ~Layer();
  virtual const Tensor& forward(const Tensor& x, Mode mode = Mode::train) = 0;
  /// Returns dL/dx (empty when options.input_grad is false); adds dL/dparams to the gradients.
  virtual const Tensor& backward(const Tensor& dy, BackwardOptions options = {}) = 0;
  virtual std::vector<Parameter*> parameters() { return {}; }
  /// State that is saved with the weights but not trained (BatchNorm's running statistics,
  /// spectral norm's u and v): what a checkpoint must keep besides parameters().
  virtual std::vector<Tensor*> buffers() { return {}; }
  /// True when, in training mode, one sample's output depends on the rest of its batch
  /// (BatchNorm): the trainer then shows D real and fake samples in separate batches.
  virtual bool couples_batch() const { return false; }
  /// "Linear(2, 256)"
  virtual std::string describe() const = 0;

  /// True when forward_dual() and backward_dual() are implemented: exact gradient penalties
  /// (penalty.hpp) need them from every layer of the critic.
  virtual bool supports_dual() const { return false; }
  /// Forward-mode pass: y = f(x) and its directional derivative ẏ = J_f(x)·ẋ. Like forward(), keeps
  /// pointers to x and ẋ for the matching backward_dual(). Throws Error unless supports_dual().
  virtual DualTensors forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode = Mode::train);
  /// Reverse pass through forward_dual(): from the adjoints ȳ and ẏ̄ of y and ẏ, returns x̄ = J_fᵀȳ +
  /// (∂(J_f·ẋ)/∂x)ᵀẏ̄ and ẋ̄ = J_fᵀẏ̄ (unless !options.input_grad), and adds θ̄ = ∂(y, ẏ)/∂θ ᵀ(ȳ, ẏ̄)
  /// to the parameter gradients (when options.weight_grad). Either adjoint may be empty (zero).
  virtual DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options = {});
  void zero_grad();
};

}  // namespace gantry
