#include "results/table.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace gantry {

Format parse_format(std::string_view name) {
  if (name == "table") return Format::table;
  if (name == "csv") return Format::csv;
  if (name == "json") return Format::json;
  if (name == "markdown") return Format::markdown;
  throw ConfigError(fmt::format("unknown format '{}' (available: csv, json, markdown, table)", name));
}

std::string number_cell(double value) { return std::isnan(value) ? "" : fmt::format("{}", value); }

std::string csv_cell(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += c;
    }
  }
  return out + "\"";
}

void write_table(std::ostream& out, const Table& t, Format format) {
  const size_t ncol = t.columns.size();
  auto is_numeric = [&](size_t c) { return c < t.numeric.size() && t.numeric[c]; };
  switch (format) {
    case Format::csv: {
      for (size_t c = 0; c < ncol; ++c) out << (c ? "," : "") << csv_cell(t.columns[c]);
      out << "\n";
      for (const auto& row : t.rows) {
        for (size_t c = 0; c < ncol; ++c) out << (c ? "," : "") << csv_cell(row[c]);
        out << "\n";
      }
      return;
    }
    case Format::json: {
      out << "[";
      for (size_t r = 0; r < t.rows.size(); ++r) {
        out << (r ? ",\n " : "\n ") << "{";
        for (size_t c = 0; c < ncol; ++c) {
          const std::string& cell = t.rows[r][c];
          out << (c ? ", " : "") << json_string(t.columns[c]) << ": "
              << (is_numeric(c) ? (cell.empty() ? "null" : cell) : json_string(cell));
        }
        out << "}";
      }
      out << (t.rows.empty() ? "]\n" : "\n]\n");
      return;
    }
    case Format::table:
    case Format::markdown: {
      std::vector<size_t> width(ncol);
      for (size_t c = 0; c < ncol; ++c) {
        width[c] = t.columns[c].size();
        for (const auto& row : t.rows) width[c] = std::max(width[c], row[c].size());
      }
      const bool md = format == Format::markdown;
      auto line = [&](const std::vector<std::string>& cells) {
        std::string s = md ? "| " : "";
        for (size_t c = 0; c < ncol; ++c) {
          const bool right = is_numeric(c);
          s += right ? fmt::format("{:>{}}", cells[c], width[c]) : fmt::format("{:<{}}", cells[c], width[c]);
          s += md ? " | " : "  ";
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        out << s << "\n";
      };
      line(t.columns);
      if (md) {
        std::string s = "|";
        for (size_t c = 0; c < ncol; ++c) s += std::string(width[c] + 1, '-') + (is_numeric(c) ? ":|" : " |");
        out << s << "\n";
      }
      for (const auto& row : t.rows) line(row);
      return;
    }
  }
}

}  // namespace gantry
