#pragma once
#include "util/text.hpp"  // json_string

#include <filesystem>
#include <fstream>
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

/// A file written whole or not at all: the bytes go to a temporary file in the destination's
/// folder, which replaces the destination only at commit(). Destroyed without commit() (an error
/// midway), it removes the temporary and leaves an earlier file at the destination as it was.
class OutputFile {
 public:
  /// ConfigError when the destination's folder cannot take a file.
  explicit OutputFile(std::filesystem::path destination);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  std::ostream& stream() { return out_; }
  /// Flushes the bytes to disk and renames the file into place; ConfigError when that fails.
  void commit();

 private:
  std::filesystem::path destination_, temporary_;
  std::ofstream out_;
  bool committed_ = false;
};

}  // namespace gantry
