#include "train/ema.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace gantry {

GeneratorEma::GeneratorEma(Layer& g, double decay, int64_t start) : decay_(static_cast<float>(decay)), start_(start) {
  for (Parameter* p : g.parameters()) live_.push_back(&p->value);
  parameters_ = live_.size();
  for (Tensor* b : g.buffers()) live_.push_back(b);
  for (Tensor* t : live_) {
    average_.push_back(*t);
    saved_.emplace_back(t->shape());
  }
}

void GeneratorEma::update(int64_t step) {
  for (size_t i = 0; i < live_.size(); ++i) {
    const float* w = live_[i]->data();
    float* a = average_[i].data();
    const int64_t n = live_[i]->size();
    if (step <= start_) {
      std::copy_n(w, n, a);
      continue;
    }
    // The lerp form a + (1 − d)(w − a) is what torch's lerp_ (BigGAN's and StyleGAN2's EMA) computes.
    for (int64_t k = 0; k < n; ++k) a[k] += (1.0f - decay_) * (w[k] - a[k]);
  }
}

std::vector<std::pair<std::string, Tensor*>> GeneratorEma::tensors() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (size_t i = 0; i < average_.size(); ++i)
    out.emplace_back(i < parameters_ ? fmt::format("ema.param.{}", i) : fmt::format("ema.buffer.{}", i - parameters_),
                     &average_[i]);
  return out;
}

// Copies, not swaps of the tensors: layers hold pointers into their parameters' buffers.
GeneratorEma::Swap::Swap(GeneratorEma& ema) : ema_(ema) {
  for (size_t i = 0; i < ema_.live_.size(); ++i) {
    std::copy_n(ema_.live_[i]->data(), ema_.live_[i]->size(), ema_.saved_[i].data());
    std::copy_n(ema_.average_[i].data(), ema_.live_[i]->size(), ema_.live_[i]->data());
  }
}

GeneratorEma::Swap::~Swap() {
  for (size_t i = 0; i < ema_.live_.size(); ++i)
    std::copy_n(ema_.saved_[i].data(), ema_.live_[i]->size(), ema_.live_[i]->data());
}

}  // namespace gantry
