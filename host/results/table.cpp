#include "results/table.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

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

namespace {

// The mode a plain open() would give a new file, or the mode of the file being replaced.
mode_t output_mode(const std::filesystem::path& destination) {
  struct stat st {};
  if (::stat(destination.c_str(), &st) == 0) return st.st_mode & 07777;
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

[[noreturn]] void cannot_write(const std::filesystem::path& path, int error) {
  throw ConfigError(fmt::format("cannot write {}: {}", path.string(), std::strerror(error)));
}

}  // namespace

OutputFile::OutputFile(std::filesystem::path destination) : destination_(std::move(destination)) {
  std::error_code ec;
  if (destination_.filename().empty() || std::filesystem::is_directory(destination_, ec))
    throw ConfigError(fmt::format("cannot write {}: it is a folder", destination_.string()));
  const std::filesystem::path folder = destination_.has_parent_path() ? destination_.parent_path() : ".";
  // Hidden and in the same folder, so that the final rename is atomic (same file system).
  std::string name = (folder / fmt::format(".{}.XXXXXX", destination_.filename().string())).string();
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) cannot_write(destination_, errno);
  temporary_ = name;
  // mkstemp makes the file 0600; a report or export should be as readable as one written in place.
  const int chmod_error = ::fchmod(fd, output_mode(destination_)) == 0 ? 0 : errno;
  ::close(fd);
  out_.open(temporary_, std::ios::binary | std::ios::trunc);
  if (chmod_error != 0 || !out_) {
    std::filesystem::remove(temporary_, ec);
    cannot_write(destination_, chmod_error != 0 ? chmod_error : EIO);
  }
}

OutputFile::~OutputFile() {
  if (committed_) return;
  out_.close();
  std::error_code ec;
  std::filesystem::remove(temporary_, ec);
}

void OutputFile::commit() {
  out_.close();
  if (!out_) cannot_write(destination_, errno != 0 ? errno : EIO);
  // The bytes reach the disk before the name does, so a crash leaves the old file or the new one.
  const int fd = ::open(temporary_.c_str(), O_RDONLY | O_CLOEXEC);
  const int sync_error = fd < 0 || ::fsync(fd) != 0 ? errno : 0;
  if (fd >= 0) ::close(fd);
  if (sync_error != 0) cannot_write(destination_, sync_error);
  if (::rename(temporary_.c_str(), destination_.c_str()) != 0) cannot_write(destination_, errno);
  committed_ = true;
}

}  // namespace gantry
