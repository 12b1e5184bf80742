#include "support/plugins.hpp"

#include <gantry/data.hpp>
#include <gantry/error.hpp>
#include <gantry/fashion_mnist.hpp>
#include <gantry/model.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <zlib.h>

namespace gantry {
namespace {

TEST(Ring8, EightDistinctModesEvenlyOnTheUnitCircle) {
  auto data = test::make<DataSource>(PluginKind::data, "ring8");
  const ModeSet* m = data->modes();
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->centers.dim(0), 8);
  EXPECT_DOUBLE_EQ(m->stddev, 0.01);
  for (int64_t i = 0; i < 8; ++i) {
    const double angle = std::atan2(m->centers[2 * i + 1], m->centers[2 * i]);
    EXPECT_NEAR(std::hypot(m->centers[2 * i], m->centers[2 * i + 1]), 1.0, 1e-6);
    const double expected = 2 * M_PI * static_cast<double>(i) / 8;
    EXPECT_NEAR(std::remainder(angle - expected, 2 * M_PI), 0.0, 1e-6) << "mode " << i;
  }
  // The classic bug (linspace(0, 2π, 8)) puts the last mode on the first.
  EXPECT_GT(std::hypot(m->centers[14] - m->centers[0], m->centers[15] - m->centers[1]), 0.5);
}

TEST(Ring8, SamplesSpreadOverAllModesWithTheirStd) {
  auto data = test::make<DataSource>(PluginKind::data, "ring8", {{"radius", 2.0}, {"std", 0.1}});
  Tensor x({8000, 2});
  Rng rng(3);
  data->sample(rng, x);
  double r2 = 0;
  for (int64_t i = 0; i < 8000; ++i) r2 += std::hypot(x[2 * i], x[2 * i + 1]);
  EXPECT_NEAR(r2 / 8000, 2.0, 0.01);
}

TEST(Ring8, LabelsAreTheMixtureComponentsAndLeaveTheDrawsUnchanged) {
  auto data = test::make<DataSource>(PluginKind::data, "ring8");
  EXPECT_EQ(data->num_classes(), 8);
  Tensor a({500, 2}), b({500, 2});
  std::vector<int32_t> labels(500);
  Rng ra(9), rb(9);
  data->sample(ra, a);
  data->sample_labelled(rb, b, labels);
  EXPECT_EQ(std::vector<float>(a.values().begin(), a.values().end()), std::vector<float>(b.values().begin(), b.values().end()));
  const ModeSet& modes = *data->modes();
  for (int64_t i = 0; i < 500; ++i) {
    const auto l = labels[static_cast<size_t>(i)];
    EXPECT_LT(std::hypot(b[2 * i] - modes.centers[2 * l], b[2 * i + 1] - modes.centers[2 * l + 1]), 0.06) << i;
  }
}

TEST(SwissRoll, HasNoLabels) {
  auto data = test::make<DataSource>(PluginKind::data, "swissroll");
  EXPECT_EQ(data->num_classes(), 0);
  Tensor x({2, 2});
  std::vector<int32_t> labels(2);
  Rng rng(1);
  EXPECT_THROW(data->sample_labelled(rng, x, labels), Error);
}

TEST(Grid25, MeansOnTheGrid) {
  auto data = test::make<DataSource>(PluginKind::data, "grid25");
  const ModeSet* m = data->modes();
  ASSERT_EQ(m->centers.dim(0), 25);
  std::set<std::pair<int, int>> seen;
  for (int64_t i = 0; i < 25; ++i) seen.insert({static_cast<int>(m->centers[2 * i]), static_cast<int>(m->centers[2 * i + 1])});
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_TRUE(seen.count({-4, -4}) && seen.count({4, 4}) && seen.count({0, 0}) && seen.count({-2, 4}));
  EXPECT_DOUBLE_EQ(m->stddev, 0.05);
}

TEST(SwissRoll, PointsLieWithinTheScaledRoll) {
  auto data = test::make<DataSource>(PluginKind::data, "swissroll");
  EXPECT_EQ(data->modes(), nullptr);
  Tensor x({1000, 2});
  Rng rng(4);
  data->sample(rng, x);
  double max_r = 0;
  for (int64_t i = 0; i < 1000; ++i) max_r = std::max(max_r, static_cast<double>(std::hypot(x[2 * i], x[2 * i + 1])));
  EXPECT_LT(max_r, 4.5 * M_PI / 7.5 + 0.3);
  EXPECT_GT(max_r, 1.0);
}

TEST(MlpModels, GeneratorAndDiscriminatorShapes) {
  auto gen = test::make<Generator>(PluginKind::generator, "mlp", {{"width", int64_t{8}}, {"depth", int64_t{2}}});
  auto disc = test::make<Discriminator>(PluginKind::discriminator, "mlp", {{"width", int64_t{8}}});
  Tensor z({5, gen->latent_dim()});
  const Tensor& x = gen->layer().forward(z);
  EXPECT_EQ(x.shape(), (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(disc->layer().forward(x).shape(), (std::vector<int64_t>{5, 1}));
  EXPECT_EQ(gen->layer().describe(), "Linear(16, 8) - ReLU - Linear(8, 8) - ReLU - Linear(8, 2)");
}

}  // namespace
}  // namespace gantry

namespace gantry {
namespace {

TEST(FashionMnist, ImagesInMinusOneToOneWithTheirShape) {
  auto data = test::make<DataSource>(PluginKind::data, "fashion_mnist", {}, {});
  EXPECT_EQ(data->sample_shape(), (std::vector<int64_t>{1, 28, 28}));
  Tensor x({64, 1, 28, 28});
  Rng rng(1);
  data->sample(rng, x);
  float lo = 2, hi = -2;
  for (float v : x.values()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_EQ(lo, -1.0f);  // black background
  EXPECT_EQ(hi, 1.0f);   // some pixel of 64 garments is white
}

TEST(FashionMnist, LabelledSamplesAreTheSameImagesWithTheirDatasetLabels) {
  auto plain = test::make<DataSource>(PluginKind::data, "fashion_mnist", {}, {});
  auto labelled = test::make<DataSource>(PluginKind::data, "fashion_mnist", {}, {});
  EXPECT_EQ(labelled->num_classes(), 10);
  Tensor a({40, 1, 28, 28}), b({40, 1, 28, 28});
  std::vector<int32_t> labels(40);
  Rng ra(3), rb(3);
  plain->sample(ra, a);
  labelled->sample_labelled(rb, b, labels);
  EXPECT_EQ(std::vector<float>(a.values().begin(), a.values().end()), std::vector<float>(b.values().begin(), b.values().end()));
  // Each image's label is the dataset's label of that image: find it by its pixels.
  const LabelledImages& train = load_fashion_mnist(default_fashion_mnist_dir(), "train");
  for (int64_t i = 0; i < 5; ++i) {
    int found = -1;
    for (int64_t r = 0; r < train.images.dim(0) && found < 0; ++r)
      if (std::equal(b.data() + i * 784, b.data() + (i + 1) * 784, train.images.data() + r * 784))
        found = train.labels[static_cast<size_t>(r)];
    EXPECT_EQ(found, labels[static_cast<size_t>(i)]) << "sample " << i;
  }
}

TEST(FashionMnist, AClassSubsetHasNoLabels) {
  auto data = test::make<DataSource>(PluginKind::data, "fashion_mnist", {{"classes", std::vector<int64_t>{1, 7}}}, {});
  EXPECT_EQ(data->num_classes(), 0);
  Tensor x({2, 1, 28, 28});
  std::vector<int32_t> labels(2);
  Rng rng(1);
  try {
    data->sample_labelled(rng, x, labels);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "fashion_mnist: labels need all ten classes (the parameter 'classes' chose a subset)");
  }
}

TEST(FashionMnist, SplitsAndLabelsAreTheOnesOfTheDataset) {
  const LabelledImages& train = load_fashion_mnist(default_fashion_mnist_dir(), "train");
  const LabelledImages& test = load_fashion_mnist(default_fashion_mnist_dir(), "test");
  EXPECT_EQ(train.images.dim(0), 60000);
  EXPECT_EQ(test.images.dim(0), 10000);
  std::vector<int> counts(10, 0);
  for (uint8_t l : test.labels) ++counts[l];
  EXPECT_EQ(counts, std::vector<int>(10, 1000));  // the test split is balanced
  EXPECT_EQ(&load_fashion_mnist(default_fashion_mnist_dir(), "test"), &test);  // read once
}

TEST(FashionMnist, EachEpochVisitsEveryChosenImageOnce) {
  // Class 9 only: 6,000 training images; one epoch of batches must show each exactly once.
  auto data = test::make<DataSource>(PluginKind::data, "fashion_mnist", {{"classes", std::vector<int64_t>{9}}}, {});
  const LabelledImages& train = load_fashion_mnist(default_fashion_mnist_dir(), "train");
  std::map<std::vector<float>, int> seen;
  Tensor x({100, 1, 28, 28});
  Rng rng(2);
  for (int b = 0; b < 60; ++b) {
    data->sample(rng, x);
    for (int64_t i = 0; i < 100; ++i) ++seen[std::vector<float>(x.data() + i * 784, x.data() + (i + 1) * 784)];
  }
  int64_t class9 = std::count(train.labels.begin(), train.labels.end(), 9);
  EXPECT_EQ(class9, 6000);
  EXPECT_GE(static_cast<int64_t>(seen.size()), 5990);  // a handful of duplicate images exist in the data
  for (int64_t i = 0; i < 60000; i += 997) {
    if (train.labels[static_cast<size_t>(i)] != 9) continue;
    EXPECT_TRUE(seen.count(std::vector<float>(train.images.data() + i * 784, train.images.data() + (i + 1) * 784)));
  }
}

TEST(FashionMnist, AMissingFolderSaysHowToInstallTheData) {
  try {
    test::make<DataSource>(PluginKind::data, "fashion_mnist", {{"path", std::string("/nonexistent/fmnist")}}, {});
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/nonexistent/fmnist/train-images-idx3-ubyte.gz"), std::string::npos) << what;
    EXPECT_NE(what.find("apt-get install dataset-fashion-mnist"), std::string::npos) << what;
  }
}

TEST(FashionMnist, ACorruptFileIsNamedWithWhatIsWrong) {
  const auto dir = std::filesystem::temp_directory_path() / "gantry-fmnist-corrupt";
  std::filesystem::create_directories(dir);
  for (const char* name : {"train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
    std::filesystem::copy_file(default_fashion_mnist_dir() / name, dir / name,
                               std::filesystem::copy_options::overwrite_existing);
  {
    gzFile gz = gzopen((dir / "train-images-idx3-ubyte.gz").c_str(), "wb");
    const unsigned char head[] = {0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3};
    gzwrite(gz, head, sizeof head);  // the header of 60,000 images, then 3 pixels
    gzclose(gz);
  }
  try {
    load_fashion_mnist(dir, "train");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train-images-idx3-ubyte.gz is truncated"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gantry
