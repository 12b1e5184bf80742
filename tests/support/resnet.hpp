#pragma once
// The ResNet pieces of tests/reference/make_resnet.py, built with gantry's layers in the same order
// (a block's main branch, then its shortcut), so the reference's parameters load one for one.
#include <gantry/layers.hpp>

#include <memory>

namespace gantry::test {

// The activation is a parameter because finite differences need a smooth one: a step of a weight
// moves thousands of pre-activations, and some cross a ReLU's kink.

/// ReLU-Conv3×3(in→out)-ReLU-Conv3×3(out→out)-AvgPool2 + Conv1×1(in→out)-AvgPool2 (no spectral norm).
inline std::unique_ptr<Residual> resnet_down_block(int64_t in, int64_t out, Rng& rng, Activation act = Activation::relu) {
  auto main = std::make_unique<Sequential>();
  main->add(make_activation(act));
  main->emplace<Conv2d>(in, out, 3, 1, 1, rng);
  main->add(make_activation(act));
  main->emplace<Conv2d>(out, out, 3, 1, 1, rng);
  main->emplace<AvgPool2d>(2);
  auto shortcut = std::make_unique<Sequential>();
  shortcut->emplace<Conv2d>(in, out, 1, 1, 0, rng);
  shortcut->emplace<AvgPool2d>(2);
  return std::make_unique<Residual>(std::move(main), std::move(shortcut));
}

/// BN-ReLU-Upsample×2-Conv3×3-BN-ReLU-Conv3×3 + Upsample×2-Conv1×1, all c channels.
inline std::unique_ptr<Residual> resnet_up_block(int64_t c, Rng& rng, Activation act = Activation::relu) {
  auto main = std::make_unique<Sequential>();
  main->emplace<BatchNorm>(c);
  main->add(make_activation(act));
  main->emplace<Upsample2d>(2);
  main->emplace<Conv2d>(c, c, 3, 1, 1, rng);
  main->emplace<BatchNorm>(c);
  main->add(make_activation(act));
  main->emplace<Conv2d>(c, c, 3, 1, 1, rng);
  auto shortcut = std::make_unique<Sequential>();
  shortcut->emplace<Upsample2d>(2);
  shortcut->emplace<Conv2d>(c, c, 1, 1, 0, rng);
  return std::make_unique<Residual>(std::move(main), std::move(shortcut));
}

/// SNGAN's critic in miniature on [N, 1, 8, 8]: optimised block (1→c), down block, block with the
/// identity shortcut, ReLU, sum over H×W, Linear(c, 1); spectral norm on every layer when `sn`;
/// `act` in place of every ReLU.
inline std::unique_ptr<Sequential> small_resnet_critic(int64_t c, bool sn, Rng& rng, Activation act = Activation::relu) {
  auto net = std::make_unique<Sequential>();
  auto first = std::make_unique<Sequential>();
  first->emplace<Conv2d>(1, c, 3, 1, 1, rng);
  first->add(make_activation(act));
  first->emplace<Conv2d>(c, c, 3, 1, 1, rng);
  first->emplace<AvgPool2d>(2);
  auto first_shortcut = std::make_unique<Sequential>();
  first_shortcut->emplace<AvgPool2d>(2);
  first_shortcut->emplace<Conv2d>(1, c, 1, 1, 0, rng);
  net->emplace<Residual>(std::move(first), std::move(first_shortcut));
  net->add(resnet_down_block(c, c, rng, act));
  auto same = std::make_unique<Sequential>();
  same->add(make_activation(act));
  same->emplace<Conv2d>(c, c, 3, 1, 1, rng);
  same->add(make_activation(act));
  same->emplace<Conv2d>(c, c, 3, 1, 1, rng);
  net->emplace<Residual>(std::move(same));
  net->add(make_activation(act));
  net->emplace<GlobalSumPool>();
  net->emplace<Linear>(c, 1, rng);
  if (sn) apply_spectral_norm(*net, rng);
  return net;
}

}  // namespace gantry::test
