// PNG through libpng's simplified API, JPEG through libjpeg(-turbo) with a longjmp error handler:
// both libraries report a corrupt file by calling back, never by returning garbage.
#include "image_folder.hpp"

#include <csetjmp>
#include <cstdio>
#include <fmt/format.h>
#include <algorithm>
#include <fstream>
#include <iterator>

#include <jpeglib.h>
#include <png.h>

namespace gantry::image_folder {

namespace {

std::optional<Decoded> decode_png(const std::vector<uint8_t>& bytes, std::string& why) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    why = fmt::format("not a readable PNG ({})", image.message);
    return std::nullopt;
  }
  // Grey stays grey; colour (palette too) becomes RGB; alpha is dropped (composited on nothing).
  const bool grey = (image.format & PNG_FORMAT_FLAG_COLOR) == 0;
  image.format = grey ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  Decoded d{image.width, image.height, grey ? 1 : 3, {}};
  d.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, d.pixels.data(), 0, nullptr)) {
    why = fmt::format("corrupt PNG ({})", image.message);
    png_image_free(&image);
    return std::nullopt;
  }
  return d;
}

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_fail(j_common_ptr info) {
  auto* err = reinterpret_cast<JpegError*>(info->err);
  (*info->err->format_message)(info, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (level −1, e.g. a premature end of data) are counted, as libjpeg's own handler does,
// but not printed: they would go to the trial's stderr.
void jpeg_count_warning(j_common_ptr info, int level) {
  if (level < 0) ++info->err->num_warnings;
}

// The pixels live in the caller's frame: locals changed between setjmp and a longjmp back to it
// have indeterminate values, so this frame owns nothing but libjpeg's state.
bool decode_jpeg(const std::vector<uint8_t>& bytes, Decoded& d, std::string& why) {
  jpeg_decompress_struct info{};
  JpegError err{};
  info.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_count_warning;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&info);
    why = fmt::format("corrupt JPEG ({})", err.message);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&info, TRUE);
  const bool grey = info.jpeg_color_space == JCS_GRAYSCALE;
  if (!grey && (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK)) {
    jpeg_destroy_decompress(&info);
    why = "CMYK JPEG (not supported)";
    return false;
  }
  info.out_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&info);
  d.width = info.output_width, d.height = info.output_height, d.channels = info.output_components;
  d.pixels.resize(static_cast<size_t>(d.width * d.height * d.channels));
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = d.pixels.data() + static_cast<size_t>(info.output_scanline) * static_cast<size_t>(d.width * d.channels);
    jpeg_read_scanlines(&info, &row, 1);
  }
  // libjpeg only warns about a truncated file and fills the rest grey: that is corrupt too.
  const bool truncated = err.mgr.num_warnings > 0;
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  if (truncated) why = "corrupt JPEG (truncated or damaged data)";
  return !truncated;
}

}  // namespace

std::optional<Decoded> decode(const std::filesystem::path& file, std::string& why) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    why = "cannot open";
    return std::nullopt;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static constexpr uint8_t png_magic[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 8 && std::equal(png_magic, png_magic + 8, bytes.begin())) return decode_png(bytes, why);
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) {
    Decoded d;
    if (decode_jpeg(bytes, d, why)) return d;
    return std::nullopt;
  }
  why = "neither PNG nor JPEG data";
  return std::nullopt;
}

}  // namespace gantry::image_folder
