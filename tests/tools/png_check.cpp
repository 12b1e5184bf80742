// png_check FILE MIN_COLOURS: exit 0 when FILE is a PNG with at least MIN_COLOURS distinct colours
// (a blank or failed rendering has one or two).
#include <cairo.h>

#include <cstdio>
#include <cstdlib>
#include <set>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: png_check FILE MIN_COLOURS\n");
    return 2;
  }
  cairo_surface_t* s = cairo_image_surface_create_from_png(argv[1]);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    std::fprintf(stderr, "%s: not a readable PNG\n", argv[1]);
    return 1;
  }
  cairo_surface_flush(s);
  const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  const int stride = cairo_image_surface_get_stride(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  std::set<unsigned> colours;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) colours.insert(*reinterpret_cast<const unsigned*>(data + y * stride + 4 * x) & 0xffffffu);
  std::printf("%s: %dx%d, %zu colours\n", argv[1], w, h, colours.size());
  cairo_surface_destroy(s);
  return colours.size() >= static_cast<size_t>(std::atoi(argv[2])) ? 0 : 1;
}
