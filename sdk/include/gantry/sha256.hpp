#pragma once
#include <gantry/api.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace gantry {

/// Incremental SHA-256 (FIPS 180-4); used for plugin file hashes and run identities.
class GANTRY_API Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  void update(const void* data, size_t size);
  /// Lower-case hex digest; the object is spent afterwards.
  std::string hex();

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

GANTRY_API std::string sha256_hex(std::string_view bytes);
/// Throws gantry::Error when the file cannot be read.
GANTRY_API std::string sha256_file(const std::filesystem::path& path);

}  // namespace gantry
