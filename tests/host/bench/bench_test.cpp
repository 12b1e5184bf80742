#include "bench/bench.hpp"
#include "config/experiment.hpp"

#include "support/plugins.hpp"

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(Bench, CountsTheMultiplyAddsOfTheReferenceMlp) {
  StepBenchSpec spec;
  const ModelMacs m = model_macs(spec, test::builtin_registry());
  EXPECT_EQ(m.g, 16 * 256 + 2 * 256 * 256 + 256 * 2);  // Linear(16,256), 2 × Linear(256,256), Linear(256,2)
  EXPECT_EQ(m.g_first, 16 * 256);
  EXPECT_EQ(m.d, 2 * 256 + 2 * 256 * 256 + 256);
  EXPECT_EQ(m.d_first, 2 * 256);
  // D step: G fwd B + D fwd, bwd-weights, bwd-data (minus the first layer) on 2B;
  // G step: G fwd, D fwd, D bwd-data, G bwd-weights, G bwd-data (minus the first layer) on B.
  const double b = 256;
  EXPECT_DOUBLE_EQ(step_flops(m, 256),
                   2 * (b * m.g + 2 * b * (3 * m.d - m.d_first) + b * (3 * m.g - m.g_first + 2 * m.d)));
  EXPECT_NEAR(step_flops(m, 256) / 1e9, 0.81527, 1e-5);  // bench/torch_reference.py counts the same
}

TEST(Bench, CountsConvolutionsPerOutputAndTransposedPerInputPixel) {
  StepBenchSpec spec;
  spec.model = "dcgan";
  const ModelMacs m = model_macs(spec, test::builtin_registry());
  // G: Linear(100, 6272); ConvT 128→64 on 7×7 inputs; ConvT 64→1 on 14×14 inputs.
  EXPECT_EQ(m.g, 100.0 * 6272 + 128 * 64 * 16 * 49 + 64 * 1 * 16 * 196);
  // D: Conv 1→64 to 14×14; Conv 64→128 to 7×7; Linear(6272, 1).
  EXPECT_EQ(m.d, 64.0 * 16 * 196 + 128 * 64 * 16 * 49 + 6272);
  EXPECT_EQ(m.d_first, 64.0 * 16 * 196);
}

// The ResNet row: the walk looks into residual blocks, main branch then shortcut.
TEST(Bench, CountsTheResidualBlocksOfTheResnetPair) {
  StepBenchSpec spec;
  spec.model = "resnet";
  spec.spectral_norm = true;
  const std::string text = bench_experiment(spec);
  EXPECT_NE(text.find("channels = 64\nspectral_norm = true\n[loss]"), std::string::npos) << text;
  spec.spectral_norm = false;
  EXPECT_NE(bench_experiment(spec).find("channels = 64\nspectral_norm = false\n[loss]"), std::string::npos);
  const ModelMacs m = model_macs(spec, test::builtin_registry());
  const double k3 = 64.0 * 64 * 9, k1 = 64.0 * 64;  // 3×3 and 1×1 convolutions 64→64, per output pixel
  // G: Linear(128, 64·7·7); up blocks to 14×14 and 28×28 (two 3×3 and the 1×1 shortcut at the
  // block's output size); Conv3×3(64→1) at 28×28.
  EXPECT_EQ(m.g, 128.0 * 3136 + (2 * k3 + k1) * 196 + (2 * k3 + k1) * 784 + 64.0 * 9 * 784);
  EXPECT_EQ(m.g_first, 128.0 * 3136);
  // D: optimised block (Conv3×3 1→64 and 64→64 at 28×28, pooled shortcut Conv1×1 1→64 at 14×14),
  // down block at 14×14 (shortcut before pooling), two blocks at 7×7, Linear(64, 1).
  EXPECT_EQ(m.d, 9.0 * 64 * 784 + k3 * 784 + 64.0 * 196 + (2 * k3 + k1) * 196 + 4 * k3 * 49 + 64);
  EXPECT_EQ(m.d_first, 9.0 * 64 * 784);
}

TEST(Bench, TimesTheRequestedRepeats) {
  StepBenchSpec spec;
  spec.batch = 8;
  spec.warmup = 1;
  spec.steps = 2;
  spec.repeats = 3;
  const StepBenchResult r = run_step_bench(spec, test::builtin_registry());
  ASSERT_EQ(r.steps_per_second.size(), 3u);
  for (double s : r.steps_per_second) EXPECT_GT(s, 0);
  EXPECT_GT(r.peak_rss_mib, 1);
  spec.model = "vgg";
  EXPECT_THROW(run_step_bench(spec, test::builtin_registry()), ConfigError);
}

// The WGAN-GP row: one D step with the penalty per step; its FLOPs add ∇x D, the dual forward and
// the tangent's backward on the B interpolates.
TEST(Bench, WganGpRowTrainsWithThePenalty) {
  StepBenchSpec spec;
  spec.loss = "wgan-gp";
  const std::string text = bench_experiment(spec);
  EXPECT_NE(text.find("plugin = \"wasserstein\"\nmode = \"gp\"\nlambda = 10.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("n_critic = 1\n"), std::string::npos) << text;
  const ModelMacs m = model_macs(spec, test::builtin_registry());
  EXPECT_DOUBLE_EQ(penalty_flops(m, 64), 2 * 64 * (6 * m.d - m.d_first));
  spec.batch = 8, spec.warmup = 1, spec.steps = 1, spec.repeats = 1;
  EXPECT_EQ(run_step_bench(spec, test::builtin_registry()).steps_per_second.size(), 1u);
  spec.loss = "hinge";
  EXPECT_THROW(bench_experiment(spec), ConfigError);
}

// The spectral-norm row: the same step with D's `spectral_norm = true` (same FLOP count: the
// normalisation is not a Linear/Conv pass).
TEST(Bench, SpectralNormRowNormalisesD) {
  for (const char* model : {"mlp", "dcgan"}) {
    StepBenchSpec spec;
    spec.model = model;
    spec.spectral_norm = true;
    const std::string text = bench_experiment(spec);
    EXPECT_NE(text.find("spectral_norm = true\n[loss]"), std::string::npos) << text;
    const Experiment exp = parse_experiment(text, "bench.toml", test::builtin_registry());
    EXPECT_TRUE(exp.trials.at(0).config.discriminator.params.boolean("spectral_norm")) << model;
  }
  StepBenchSpec spec;
  spec.spectral_norm = true;
  spec.batch = 8, spec.warmup = 1, spec.steps = 1, spec.repeats = 1;
  EXPECT_EQ(run_step_bench(spec, test::builtin_registry()).steps_per_second.size(), 1u);
}

}  // namespace
}  // namespace gantry
