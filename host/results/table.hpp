#pragma once
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace gantry {

/// Rows of text cells, printed as an aligned table, CSV, JSON (an array of objects) or Markdown.
struct Table {
  std::vector<std::string> columns;
  std::vector<bool> numeric;  ///< per column: JSON writes these cells as numbers (null when empty)
  std::vector<std::vector<std::string>> rows;
};

enum class Format { table, csv, json, markdown };
/// "table", "csv", "json", "markdown"; ConfigError otherwise.
Format parse_format(std::string_view name);
void write_table(std::ostream& out, const Table& table, Format format);
/// A double as the shortest text that reads back the same; "" for NaN.
std::string number_cell(double value);
std::string csv_cell(std::string_view s);
std::string json_string(std::string_view s);

}  // namespace gantry
