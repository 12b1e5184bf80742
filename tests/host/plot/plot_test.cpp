#include "plot/plot.hpp"
#include "util/base64.hpp"

#include <cairo.h>
#include <gtest/gtest.h>
#include <set>

namespace gantry {
namespace {

struct Decoded {
  int width = 0, height = 0;
  size_t colours = 0;
};

Decoded decode(const std::string& png) {
  struct Reader {
    const std::string& s;
    size_t at = 0;
  } reader{png};
  auto read = [](void* closure, unsigned char* data, unsigned int length) -> cairo_status_t {
    auto* r = static_cast<Reader*>(closure);
    if (r->at + length > r->s.size()) return CAIRO_STATUS_READ_ERROR;
    std::copy(r->s.begin() + static_cast<std::ptrdiff_t>(r->at), r->s.begin() + static_cast<std::ptrdiff_t>(r->at + length), data);
    r->at += length;
    return CAIRO_STATUS_SUCCESS;
  };
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read, &reader);
  Decoded d;
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
    d.width = cairo_image_surface_get_width(s);
    d.height = cairo_image_surface_get_height(s);
    const unsigned char* data = cairo_image_surface_get_data(s);
    std::set<unsigned> colours;
    for (int y = 0; y < d.height; ++y)
      for (int x = 0; x < d.width; ++x)
        colours.insert(*reinterpret_cast<const unsigned*>(data + y * cairo_image_surface_get_stride(s) + 4 * x) & 0xffffffu);
    d.colours = colours.size();
  }
  cairo_surface_destroy(s);
  return d;
}

TEST(Plot, ScatterOverModesIsAValidPicture) {
  ModeSet modes{Tensor({2, 2}, {1, 0, -1, 0}), 0.01};
  Tensor samples({3, 2}, {1, 0, -1, 0.01f, 0, 0});
  const Decoded d = decode(scatter_png(samples, &modes, 200));
  EXPECT_EQ(d.width, 200);
  EXPECT_EQ(d.height, 200);
  EXPECT_GT(d.colours, 3u);  // white, blue points, red rings, antialiasing
  EXPECT_GT(decode(scatter_png(samples, nullptr, 100)).colours, 1u);
}

TEST(Plot, CurvesWithBandsAndLegend) {
  const std::vector<Curve> curves{{"a", {0, 10, 20}, {0, 1, 2}, {0, 0.5, 0.5}, {}, {}}, {"b", {0, 10, 20}, {2, 1, 0}, {}, {}, {}}};
  const Decoded d = decode(curves_png(curves, "title", "y", 640, 400));
  EXPECT_EQ(d.width, 640);
  EXPECT_GT(d.colours, 10u);
  EXPECT_EQ(decode(curves_png({}, "empty", "y")).width, 800);  // no data still draws axes
}

TEST(Base64, RoundTrip) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    const std::string e = base64_encode(s);
    EXPECT_EQ(base64_decode(e), s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(base64_decode("Zm9=v").has_value());
}

}  // namespace
}  // namespace gantry
