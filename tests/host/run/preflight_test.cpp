// Problems that only show once the plugins are built are found before anything runs, located in
// the file; a plugin that crashes while being built is a warning (its runs fail on their own).
#include "run/preflight.hpp"

#include "support/experiments.hpp"

#include <gtest/gtest.h>

namespace gantry {
namespace {

class Preflight : public ::testing::Test {
 protected:
  Registry registry;
  void SetUp() override { registry.discover({GANTRY_TEST_PLUGIN_DIR, std::string(GANTRY_TEST_FIXTURE_DIR) + "/extra"}); }

  PreflightReport check(const std::string& text, PreflightOptions options = {}) {
    return preflight(parse_experiment(text, "p.toml", registry), options);
  }
};

TEST_F(Preflight, AGoodSweepIsRehearsedOncePerDistinctConfiguration) {
  const PreflightReport r = check(test::tiny_experiment("plugin = \"nonsaturating\"", 20, "", R"(
[sweep]
"optimizer.lr" = [1e-3, 1e-4]
"loss.plugin" = ["nonsaturating", "minimax"]
)"));
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.configs, 2u);  // the learning rate does not change what is built
  EXPECT_EQ(r.rehearsed, 2u);
}

TEST_F(Preflight, AGeneratorThatCannotMakeTheDataShapeIsNamedAtItsSection) {
  const PreflightReport r = check(R"([data]
plugin = "ring8"
[generator]
plugin = "dcgan"
[discriminator]
plugin = "mlp"
[loss]
plugin = "nonsaturating"
)");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], "p.toml:3:2: [generator] generator plugin 'dcgan': generator 'dcgan' makes images "
                           "[C, H, W] with H and W multiples of 4; the data has samples [2]");
}

TEST_F(Preflight, AResnetCriticForDataThatAreNotImagesIsNamedAtItsSection) {
  const PreflightReport r = check(R"([data]
plugin = "ring8"
[generator]
plugin = "mlp"
[discriminator]
plugin = "resnet"
channels = 4
[loss]
plugin = "hinge"
)");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], "p.toml:5:2: [discriminator] discriminator plugin 'resnet': discriminator 'resnet' reads "
                           "images [C, H, W] with H and W multiples of 4 (two 2×2 poolings); the data has samples [2]");
}

TEST_F(Preflight, AMissingDataFolderIsNamedAtTheDataSection) {
  std::string text = test::minimal_sections;
  text.replace(text.find("plugin = \"ring8\""), 16, "plugin = \"fashion_mnist\"\npath = \"/no/such/folder\"");
  const PreflightReport r = check(text);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_TRUE(r.problems[0].starts_with("p.toml:2:2: [data] data plugin 'fashion_mnist': Fashion-MNIST: cannot open "
                                        "/no/such/folder/train-images-idx3-ubyte.gz"))
      << r.problems[0];
}

TEST_F(Preflight, APenaltyOnABatchCoupledCriticIsRefusedAtTheLoss) {
  std::string text = test::tiny_dcgan_experiment("batch_norm = true");
  text.replace(text.find("plugin = \"nonsaturating\""), 24, "plugin = \"wasserstein\"\nmode = \"gp\"");
  const PreflightReport r = check(text);
  ASSERT_EQ(r.problems.size(), 1u) << "no problem found";
  EXPECT_NE(r.problems[0].find("[loss] loss 'wasserstein': its penalty failed: a gradient penalty needs a "
                               "discriminator that treats each sample on its own"),
            std::string::npos)
      << r.problems[0];
}

TEST_F(Preflight, ATrialLargerThanAJobsMemoryIsRefusedAtTheKeyThatMakesItLarge) {
  PreflightOptions options;
  options.jobs = 2;
  options.memory_budget = 1ull << 30;  // 512 MiB a job
  std::string text = test::tiny_experiment("plugin = \"nonsaturating\"", 20);
  text.replace(text.find("eval_samples = 500"), 18, "eval_samples = 50000000");
  const PreflightReport r = check(text, options);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_TRUE(r.problems[0].starts_with("p.toml:")) << r.problems[0];
  EXPECT_NE(r.problems[0].find(": a trial needs about "), std::string::npos) << r.problems[0];
  EXPECT_NE(r.problems[0].find("to evaluate 5e+07 samples), more than the 512 MiB a job has (1.0 GiB of memory / 2 job(s))"),
            std::string::npos)
      << r.problems[0];
}

// PacGAN: a batch that does not split into whole packed inputs is refused at batch_size, with
// both numbers, before anything runs; a batch that does is rehearsed at a small multiple of the pack.
TEST_F(Preflight, ABatchThatIsNotAMultipleOfThePackIsRefusedAtTheBatchSize) {
  const std::string text = R"([data]
plugin = "ring8"
[generator]
plugin = "mlp"
[discriminator]
plugin = "mlp"
pack = 3
[loss]
plugin = "nonsaturating"
[train]
batch_size = 64
)";
  const PreflightReport r = check(text);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], "p.toml:11:1: [train.batch_size] batch_size 64 is not a multiple of the discriminator's "
                           "pack 3: D reads 3 samples as one input, and real and fake batches are packed apart");
  std::string good = text;
  good.replace(good.find("batch_size = 64"), 15, "batch_size = 66");
  const PreflightReport ok = check(good);
  EXPECT_TRUE(ok.problems.empty()) << ok.problems.front();
  std::string gp = good;  // the penalty interpolates per packed input: it runs too
  gp.replace(gp.find("plugin = \"nonsaturating\""), 24, "plugin = \"wasserstein\"\nmode = \"gp\"");
  const PreflightReport gp_ok = check(gp);
  EXPECT_TRUE(gp_ok.problems.empty()) << gp_ok.problems.front();
}

TEST_F(Preflight, AReferenceClassifierMetricIsRefusedOnOtherImages) {
  const PreflightReport r = check(R"([data]
plugin = "swissroll"
[generator]
plugin = "mlp"
[discriminator]
plugin = "mlp"
[loss]
plugin = "nonsaturating"
[metrics.image_quality]
)");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], "p.toml:9:10: [metrics.image_quality] metric 'image_quality' measures in the features of "
                           "gantry's reference classifier, which is trained on Fashion-MNIST; data 'swissroll' is not "
                           "Fashion-MNIST and no reference classifier exists for it, so these features would describe "
                           "the wrong domain (use data 'fashion_mnist', or drop this metric)");
}

TEST_F(Preflight, APluginThatCrashesWhenBuiltIsAWarningNotAProblem) {
  const PreflightReport r = check(test::tiny_experiment("plugin = \"faulty\"\nmode = \"segfault\"\nat_step = 1", 20));
  EXPECT_TRUE(r.problems.empty());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], "trial 0 crashed while being built (killed by signal SIGSEGV (Segmentation fault): "
                           "faulty loss: about to crash); its runs will fail");
}

}  // namespace
}  // namespace gantry
