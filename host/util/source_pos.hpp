#pragma once
#include <cstdint>
#include <string>
#include <string_view>
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

/// `message` made safe for a terminal line: control characters (C0, DEL, C1) written as TOML
/// escapes ("\u001b"), since messages echo keys and values from the file; and at most
/// `max_bytes`, cut at a character boundary and marked with "…".
inline std::string printable(std::string_view message, size_t max_bytes = 2000) {
  std::string out;
  for (size_t i = 0; i < message.size(); ++i) {
    const auto c = static_cast<unsigned char>(message[i]);
    const bool c1 = c == 0xC2 && i + 1 < message.size() && static_cast<unsigned char>(message[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(message[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) {
      const unsigned code = c1 ? static_cast<unsigned char>(message[++i]) : c;
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[code >> 4];
      out += hex[code & 15];
    } else {
      out += static_cast<char>(c);
    }
    if (out.size() > max_bytes) {
      size_t cut = max_bytes;
      while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
      out.resize(cut);
      return out + "…";
    }
  }
  return out;
}

/// One problem line: "file:line:column: message", printable.
inline std::string problem_line(const SourcePos& at, std::string_view message) {
  return printable(at.str() + ": " + std::string(message));
}

}  // namespace gantry
