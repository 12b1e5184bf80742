#pragma once
#include <cstdint>
#include <string>
#include <toml++/toml.h>

namespace gantry {

/// A place in an experiment file, for error messages ("file:line:column").
struct SourcePos {
  std::string file;
  int64_t line = 1;
  int64_t column = 1;
  std::string str() const { return file + ":" + std::to_string(line) + ":" + std::to_string(column); }
  static SourcePos of(const std::string& file, const toml::source_region& r) {
    return {file, r.begin.line ? static_cast<int64_t>(r.begin.line) : 1,
            r.begin.column ? static_cast<int64_t>(r.begin.column) : 1};
  }
};

}  // namespace gantry
