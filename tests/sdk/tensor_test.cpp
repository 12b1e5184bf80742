#include <gantry/tensor.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(Tensor, ShapeSizeAndRows) {
  Tensor t({2, 3, 4});
  EXPECT_EQ(t.size(), 24);
  EXPECT_EQ(t.sample_size(), 12);
  EXPECT_EQ(shape_string(t.shape()), "[2, 3, 4]");
  for (float v : t.values()) EXPECT_EQ(v, 0.0f);
}

TEST(Tensor, CopyRowsPlacesBlocks) {
  Tensor dst({4, 2});
  Tensor src({2, 2}, {1, 2, 3, 4});
  dst.copy_rows_from(src, 2);
  EXPECT_EQ(dst[3], 0.0f);
  EXPECT_EQ(dst[4], 1.0f);
  EXPECT_EQ(dst[7], 4.0f);
}

TEST(Tensor, ReshapeKeepsBufferWhenSizeIsUnchanged) {
  Tensor t({2, 6});
  const float* p = t.data();
  t.reshape({3, 4});
  EXPECT_EQ(t.data(), p);
  EXPECT_EQ(t.dim(0), 3);
}

}  // namespace
}  // namespace gantry
