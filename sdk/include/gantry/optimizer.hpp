#pragma once
#include <gantry/api.hpp>
#include <gantry/layer.hpp>

#include <vector>

namespace gantry {

struct AdamOptions {
  double lr = 2e-4;
  double beta1 = 0.5;
  double beta2 = 0.999;
  double eps = 1e-8;
};

/// Adam with bias correction (Kingma & Ba 2015), matching torch.optim.Adam.
class GANTRY_API Adam {
 public:
  Adam(std::vector<Parameter*> params, AdamOptions options);
  /// Applies one update from the accumulated gradients.
  void step();
  /// Marks every gradient as zero before the next backward pass.
  void zero_grad();
  int64_t steps() const { return t_; }
  /// For checkpoints: the first and second moments, m and v per parameter in order
  /// (m0, v0, m1, v1, ...); restoring them and set_steps() continues training exactly.
  std::vector<Tensor*> moments();
  /// For checkpoints: the number of steps taken, which the bias correction depends on.
  void set_steps(int64_t steps) { t_ = steps; }
  /// For schedules: the learning rate of the following steps.
  void set_lr(double lr) { opt_.lr = lr; }

 private:
  std::vector<Parameter*> params_;
  AdamOptions opt_;
  std::vector<Tensor> m_, v_;
  int64_t t_ = 0;
};

}  // namespace gantry
