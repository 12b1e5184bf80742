#pragma once
#include <gantry/api.hpp>
#include <gantry/tensor.hpp>

#include <memory>
#include <string>
#include <vector>

namespace gantry {

/// A trainable tensor and the gradient accumulated into it since the last zero_grad().
struct Parameter {
  std::string name;
  Tensor value;
  Tensor grad;
  /// True after zero_grad() until a backward pass writes the gradient. Layers then write the
  /// gradient directly instead of adding to a zeroed buffer; readers treat it as all zeros.
  bool grad_is_zero = true;

  /// Adds `delta` (same size as grad) into the gradient, honouring grad_is_zero.
  GANTRY_API void accumulate(const Tensor& delta);
  /// The gradient, materialising zeros when nothing was accumulated.
  GANTRY_API const Tensor& gradient();
};

enum class Mode { train, eval };

/// What a backward pass computes: the generator step needs only D's input gradient.
struct BackwardOptions {
  bool input_grad = true;
  bool weight_grad = true;
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
  /// State that is saved with the weights but not trained (BatchNorm's running statistics).
  virtual std::vector<Tensor*> buffers() { return {}; }
  /// True when, in training mode, one sample's output depends on the rest of its batch
  /// (BatchNorm): the trainer then shows D real and fake samples in separate batches.
  virtual bool couples_batch() const { return false; }
  /// "Linear(2, 256)"
  virtual std::string describe() const = 0;
  void zero_grad();
};

}  // namespace gantry
