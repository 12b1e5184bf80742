// image_folder: a folder of generated PNG and JPEG files (grey and RGB, nested class folders, a
// corrupt PNG, two truncated JPEGs, text named .jpg, a text file) read into exact pixels.
#include "image_folder.hpp"
#include "support/plugins.hpp"

#include <gantry/data.hpp>
#include <gantry/error.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <jpeglib.h>
#include <png.h>
#include <unistd.h>

namespace gantry {
namespace {

namespace fs = std::filesystem;
namespace fi = image_folder;

void write_png(const fs::path& file, int width, int height, bool rgb, const std::vector<uint8_t>& pixels) {
  fs::create_directories(file.parent_path());
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = rgb ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  ASSERT_TRUE(png_image_write_to_file(&image, file.c_str(), 0, pixels.data(), 0, nullptr)) << image.message;
}

std::vector<uint8_t> jpeg_bytes(int width, int height, bool rgb, const std::vector<uint8_t>& pixels) {
  jpeg_compress_struct info{};
  jpeg_error_mgr err{};
  info.err = jpeg_std_error(&err);
  jpeg_create_compress(&info);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &out, &size);
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  info.input_components = rgb ? 3 : 1;
  info.in_color_space = rgb ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 100, TRUE);
  jpeg_start_compress(&info, TRUE);
  const int stride = width * (rgb ? 3 : 1);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels.data()) + info.next_scanline * static_cast<unsigned>(stride);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::vector<uint8_t> bytes(out, out + size);
  std::free(out);
  return bytes;
}

void write_bytes(const fs::path& file, const std::vector<uint8_t>& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

float px(double v) { return static_cast<float>(v / 127.5 - 1.0); }

class ImageFolderTest : public ::testing::Test {
 protected:
  fs::path root;
  void SetUp() override {
    root = fs::temp_directory_path() / ("gantry-image-folder-" + std::to_string(getpid()));
    fs::remove_all(root);
    // shirts/a_grey.png: 4 × 2 grey; the centred square is its middle two columns.
    write_png(root / "shirts/a_grey.png", 4, 2, false, {10, 20, 30, 40, 50, 60, 70, 80});
    // shirts/deep/b_rgb.png: 2 × 2 RGB, in a nested folder (class "shirts").
    write_png(root / "shirts/deep/b_rgb.png", 2, 2, true, {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255});
    // shoes/c.jpg: 8 × 8 grey constant 200; at quality 100 a flat block decodes exactly.
    write_bytes(root / "shoes/c.JPG", jpeg_bytes(8, 8, false, std::vector<uint8_t>(64, 200)));
    std::vector<uint8_t> rgb(8 * 8 * 3);
    for (size_t i = 0; i < rgb.size(); i += 3) rgb[i] = 40, rgb[i + 1] = 120, rgb[i + 2] = 220;
    const std::vector<uint8_t> good = jpeg_bytes(8, 8, true, rgb);
    write_bytes(root / "shoes/d_rgb.jpeg", good);
    // Cut in the headers (an error for libjpeg), and cut at the end of the scan (only a warning
    // for libjpeg, which pads the image with grey: gantry counts it as corrupt too).
    write_bytes(root / "shoes/truncated.jpg", std::vector<uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2)));
    std::vector<uint8_t> noise(32 * 32);
    for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<uint8_t>((i * 7919) % 251);
    const std::vector<uint8_t> busy = jpeg_bytes(32, 32, false, noise);  // a long scan to cut into
    write_bytes(root / "shoes/tail_cut.jpg", std::vector<uint8_t>(busy.begin(), busy.end() - static_cast<std::ptrdiff_t>(busy.size() / 4)));
    write_bytes(root / "shoes/broken.png", {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3, 4, 5});
    write_text(root / "shoes/fake.jpg", "not a picture\n");
    write_text(root / "README.txt", "not an image name: ignored\n");
  }
  void TearDown() override { fs::remove_all(root); }
};

TEST_F(ImageFolderTest, ReadsExactPixelsSkipsWhatItCannotDecodeAndLabelsBySubFolder) {
  const fi::Folder f({root, 2, 3, fi::Fit::crop, true});
  const Tensor& x = f.images();
  ASSERT_EQ(x.shape(), (std::vector<int64_t>{4, 3, 2, 2}));  // a_grey, b_rgb, c, d_rgb in path order
  const std::vector<float> grey{px(20), px(30), px(60), px(70)};  // the middle columns, repeated per channel
  for (int c = 0; c < 3; ++c) EXPECT_EQ(std::vector<float>(x.data() + c * 4, x.data() + c * 4 + 4), grey) << c;
  const float* rgb = x.data() + 12;
  EXPECT_EQ(std::vector<float>(rgb, rgb + 12), (std::vector<float>{1, -1, -1, 1, -1, 1, -1, 1, -1, -1, 1, 1}));
  const float* flat = x.data() + 24;
  for (int i = 0; i < 12; ++i) EXPECT_EQ(flat[i], px(200)) << i;
  const float* colour = x.data() + 36;  // YCbCr round trip: within one 8-bit level
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(colour[i], px(40), 1.01 / 127.5);
    EXPECT_NEAR(colour[4 + i], px(120), 1.01 / 127.5);
    EXPECT_NEAR(colour[8 + i], px(220), 1.01 / 127.5);
  }
  EXPECT_EQ(f.skipped(), 4);
  ASSERT_EQ(f.skipped_files().size(), 4u);
  // libpng's and libjpeg's own words follow the prefixes; they are the libraries' to change.
  EXPECT_TRUE(f.skipped_files()[0].starts_with("shoes/broken.png: not a readable PNG (")) << f.skipped_files()[0];
  EXPECT_EQ(f.skipped_files()[1], "shoes/fake.jpg: neither PNG nor JPEG data");
  EXPECT_EQ(f.skipped_files()[2], "shoes/tail_cut.jpg: corrupt JPEG (truncated or damaged data)");
  EXPECT_TRUE(f.skipped_files()[3].starts_with("shoes/truncated.jpg: corrupt JPEG (")) << f.skipped_files()[3];
  EXPECT_EQ(f.class_names(), (std::vector<std::string>{"shirts", "shoes"}));
  EXPECT_EQ(f.labels(), (std::vector<int>{0, 0, 1, 1}));
}

TEST_F(ImageFolderTest, GreyOutputTakesTheLumaOfColourImages) {
  const fi::Folder f({root, 2, 1, fi::Fit::stretch, false});
  ASSERT_EQ(f.images().shape(), (std::vector<int64_t>{4, 1, 2, 2}));
  const float* rgb = f.images().data() + 4;
  EXPECT_EQ(std::vector<float>(rgb, rgb + 4),
            (std::vector<float>{px(0.299 * 255), px(0.587 * 255), px(0.114 * 255), px(255)}));
  // Stretched, the 4 × 2 grey image's columns pair up: (10 + 20) / 2, (30 + 40) / 2, ...
  EXPECT_EQ(std::vector<float>(f.images().data(), f.images().data() + 4), (std::vector<float>{px(15), px(35), px(55), px(75)}));
  EXPECT_TRUE(f.labels().empty());
}

TEST_F(ImageFolderTest, AnEmptyFolderIsAClearError) {
  const fs::path empty = root / "empty";
  fs::create_directories(empty / "sub");
  try {
    fi::Folder f({empty, 8, 3, fi::Fit::crop, false});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "image_folder: no .png, .jpg or .jpeg file under " + empty.string() + " (searched recursively)");
  }
  try {
    fi::Folder f({root / "missing", 8, 3, fi::Fit::crop, false});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "image_folder: " + (root / "missing").string() + " is not a folder");
  }
}

TEST_F(ImageFolderTest, LabelsNeedEveryImageInAClassFolder) {
  write_png(root / "loose.png", 1, 1, false, {0});
  try {
    fi::Folder f({root, 2, 3, fi::Fit::crop, true});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "image_folder: labels = true takes each image's class from its sub-folder, but "
                                     "loose.png is directly in " + root.string());
  }
}

TEST_F(ImageFolderTest, ThePluginSamplesEpochsAndNotesTheSkippedFiles) {
  auto data = test::make<DataSource>(PluginKind::data, "image_folder",
                                     {{"path", root.string()}, {"size", int64_t{2}}, {"labels", true}});
  EXPECT_EQ(data->sample_shape(), (std::vector<int64_t>{3, 2, 2}));
  Tensor batch({4, 3, 2, 2});
  Rng rng(1);
  data->sample(rng, batch);  // one epoch: every image once, in some order
  const fi::Folder f({root, 2, 3, fi::Fit::crop, true});
  auto sorted_images = [](const Tensor& t) {
    std::vector<std::vector<float>> rows;
    for (int64_t i = 0; i < t.dim(0); ++i) rows.emplace_back(t.data() + i * 12, t.data() + (i + 1) * 12);
    std::sort(rows.begin(), rows.end());
    return rows;
  };
  EXPECT_EQ(sorted_images(batch), sorted_images(f.images()));
  const auto notes = data->notes();
  ASSERT_EQ(notes.size(), 4u);
  EXPECT_EQ(notes[0], (std::pair<std::string, std::string>{"images", "4"}));
  EXPECT_EQ(notes[1], (std::pair<std::string, std::string>{"skipped", "4"}));
  EXPECT_EQ(notes[2].first, "first_skipped");
  EXPECT_EQ(notes[2].second, f.skipped_files()[0]);
  EXPECT_EQ(notes[3], (std::pair<std::string, std::string>{"classes", "shirts, shoes"}));
}

TEST_F(ImageFolderTest, LabelledSamplesCarryTheirSubFoldersClass) {
  auto data = test::make<DataSource>(PluginKind::data, "image_folder",
                                     {{"path", root.string()}, {"size", int64_t{2}}, {"labels", true}});
  EXPECT_EQ(data->num_classes(), 2);
  const fi::Folder f({root, 2, 3, fi::Fit::crop, true});
  Tensor batch({6, 3, 2, 2});
  std::vector<int32_t> labels(6, -1);
  Rng rng(3);
  data->sample_labelled(rng, batch, labels);  // an epoch and a half
  for (int64_t i = 0; i < 6; ++i) {
    const std::vector<float> row(batch.data() + i * 12, batch.data() + (i + 1) * 12);
    int64_t found = -1;
    for (int64_t k = 0; k < 4; ++k)
      if (std::equal(row.begin(), row.end(), f.images().data() + k * 12)) found = k;
    ASSERT_GE(found, 0) << i;
    EXPECT_EQ(labels[static_cast<size_t>(i)], f.labels()[static_cast<size_t>(found)]) << i;
  }
}

TEST_F(ImageFolderTest, UnlabelledSamplingIsRefusedSayingHowToGetLabels) {
  auto data = test::make<DataSource>(PluginKind::data, "image_folder", {{"path", root.string()}, {"size", int64_t{2}}});
  EXPECT_EQ(data->num_classes(), 0);
  Tensor batch({1, 3, 2, 2});
  std::vector<int32_t> labels(1);
  Rng rng(3);
  try {
    data->sample_labelled(rng, batch, labels);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "image_folder: labels = false: set labels = true to take classes from sub-folders");
  }
}

TEST_F(ImageFolderTest, ASavedStateDrawsTheSameBatchesAgain) {
  const std::vector<std::pair<std::string, ParamValue>> p{{"path", root.string()}, {"size", int64_t{2}}};
  auto a = test::make<DataSource>(PluginKind::data, "image_folder", p);
  auto b = test::make<DataSource>(PluginKind::data, "image_folder", p);
  Tensor batch({3, 3, 2, 2}), again({3, 3, 2, 2});
  Rng rng(5);
  a->sample(rng, batch);  // three of the epoch's four
  b->set_state(a->state());
  Rng copy = rng;
  a->sample(rng, batch);  // the epoch's last, then a fresh permutation
  b->sample(copy, again);
  EXPECT_EQ(std::vector<float>(batch.values().begin(), batch.values().end()),
            std::vector<float>(again.values().begin(), again.values().end()));
}

TEST_F(ImageFolderTest, TwoChannelsAreRefused) {
  try {
    test::make<DataSource>(PluginKind::data, "image_folder", {{"path", root.string()}, {"channels", int64_t{2}}});
    FAIL() << "no error";
  } catch (const PluginError& e) {
    EXPECT_STREQ(e.what(), "data plugin 'image_folder': image_folder: channels must be 1 or 3, got 2");
  }
}

}  // namespace
}  // namespace gantry
