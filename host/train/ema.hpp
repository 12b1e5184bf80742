#pragma once
// An exponential moving average of the generator (Karras et al. 2018; Yazıcı et al. 2019): a copy
// of every parameter and buffer (BatchNorm's running statistics, spectral norm's u and v), read
// generically through Layer::parameters() and buffers() so that any layer a plugin builds is
// covered. Metrics are computed on it by swapping it into G for the evaluation only.
#include <gantry/layer.hpp>

#include <string>
#include <utility>
#include <vector>

namespace gantry {

class GeneratorEma {
 public:
  /// Averages `g` with `decay`; up to step `start` the average is a copy of G.
  GeneratorEma(Layer& g, double decay, int64_t start);
  /// After the G update of `step` (1…): copy (step ≤ start) or avg ← decay·avg + (1 − decay)·G.
  void update(int64_t step);
  /// The averaged tensors, named as a checkpoint stores them ("ema.param.3", "ema.buffer.0").
  std::vector<std::pair<std::string, Tensor*>> tensors();

  /// Puts the average into G for as long as it lives, and G's own values back afterwards.
  class Swap {
   public:
    explicit Swap(GeneratorEma& ema);
    ~Swap();
    Swap(const Swap&) = delete;
    Swap& operator=(const Swap&) = delete;

   private:
    GeneratorEma& ema_;
  };

 private:
  std::vector<Tensor*> live_;     // G's parameters' values, then its buffers
  std::vector<Tensor> average_;   // one per live tensor
  std::vector<Tensor> saved_;     // G's own values while swapped out
  size_t parameters_ = 0;         // how many of live_ are parameters
  float decay_;
  int64_t start_;
};

}  // namespace gantry
