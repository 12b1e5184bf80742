#include "registry/registry.hpp"

#include <gantry/sha256.hpp>
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fstream>

namespace gantry {
namespace fs = std::filesystem;

namespace {

constexpr const char* entry_symbol = "gantry_plugin";

std::string where(const fs::path& file) { return fmt::format("plugin '{}'", file.string()); }

// The entry point, then the ABI number (touching nothing else: the rest of the entry's layout
// may differ), then the fingerprint (a C string), and only then describe().
const PluginDescriptor& describe_library(const boost::dll::shared_library& library, const fs::path& file) {
  if (!library.has(entry_symbol))
    throw PluginError(fmt::format("{}: not a gantry plugin (no '{}' entry point; declare one with GANTRY_PLUGIN)",
                                  where(file), entry_symbol));
  using EntryFn = const PluginEntry*();
  const PluginEntry* entry = library.get_alias<EntryFn>(entry_symbol)();
  if (entry == nullptr) throw PluginError(fmt::format("{}: entry point returned nothing", where(file)));
  if (entry->abi_version != abi_version)
    throw PluginError(fmt::format("{}: ABI version {}, gantry supports {} (rebuild the plugin against this gantry SDK)",
                                  where(file), entry->abi_version, abi_version));
  const char* theirs = entry->build_fingerprint;
  const std::string_view ours = build_fingerprint();
  if (theirs == nullptr || std::string_view(theirs, strnlen(theirs, 256)) != ours)
    throw PluginError(fmt::format("{}: built as \"{}\", gantry is \"{}\" (rebuild the plugin against this gantry SDK "
                                  "with the same compiler)",
                                  where(file), theirs == nullptr ? "(none)" : ascii_printable(std::string_view(theirs, strnlen(theirs, 256))),
                                  ours));
  if (entry->describe == nullptr) throw PluginError(fmt::format("{}: entry point has no describe function", where(file)));
  try {
    return entry->describe();
  } catch (const std::exception& e) {
    throw PluginError(fmt::format("{}: describing itself failed: {}", where(file), e.what()));
  } catch (...) {
    throw PluginError(fmt::format("{}: describing itself failed with an exception that is not a std::exception",
                                  where(file)));
  }
}

}  // namespace

std::string ascii_printable(std::string_view text, size_t limit) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  if (text.size() > limit) out += "...";
  return out;
}

void check_library_file(const fs::path& file) {
  std::error_code ec;
  const fs::file_status st = fs::status(file, ec);
  if (!fs::exists(st)) throw PluginError(fmt::format("{}: no such file", where(file)));
  if (fs::is_directory(st)) throw PluginError(fmt::format("{}: is a directory, not a plugin library", where(file)));
  // Not opened unless regular: opening a FIFO named x.so would block.
  if (!fs::is_regular_file(st)) throw PluginError(fmt::format("{}: not a regular file", where(file)));
  char magic[4] = {};
  std::ifstream in(file, std::ios::binary);
  if (!in) throw PluginError(fmt::format("{}: cannot open the file", where(file)));
  in.read(magic, sizeof magic);
  if (in.gcount() != 4 || std::memcmp(magic, "\x7f" "ELF", 4) != 0)
    throw PluginError(fmt::format("{}: not an ELF shared library (no ELF header)", where(file)));
}

std::unique_ptr<PluginLibrary> load_plugin_library(const fs::path& file, std::string sha256) {
  auto lib = std::make_unique<PluginLibrary>();
  lib->file = fs::absolute(file).lexically_normal();
  check_library_file(lib->file);
  try {
    lib->library.load(lib->file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw PluginError(fmt::format("{}: cannot load the library: {}", where(lib->file), e.what()));
  }
  lib->descriptor = &describe_library(lib->library, lib->file);
  validate_descriptor(*lib->descriptor, lib->file);
  lib->sha256 = sha256.empty() ? sha256_file(lib->file) : std::move(sha256);
  return lib;
}

fs::path Registry::builtin_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "lib/gantry/plugins";
  return (exe.parent_path() / ".." / "lib" / "gantry" / "plugins").lexically_normal();
}

std::vector<fs::path> Registry::search_path(const std::vector<fs::path>& extra) {
  std::vector<fs::path> dirs{builtin_dir()};
  if (const char* env = std::getenv("GANTRY_PLUGIN_PATH")) {
    std::string_view rest = env;
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      const std::string_view part = rest.substr(0, colon);
      if (!part.empty()) dirs.emplace_back(part);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  dirs.insert(dirs.end(), extra.begin(), extra.end());
  return dirs;
}

const PluginLibrary& Registry::add(std::unique_ptr<PluginLibrary> lib) {
  if (const PluginLibrary* first = find(lib->kind(), lib->name())) {
    warnings_.push_back(fmt::format("{} plugin '{}' in {} is shadowed by {}", to_string(lib->kind()),
                                    lib->name(), lib->file.string(), first->file.string()));
    return *first;  // `lib` (and its library) goes away here: nothing may point into it
  }
  libraries_.push_back(std::move(lib));
  return *libraries_.back();
}

std::unique_ptr<PluginLibrary> Registry::load(const fs::path& file) const {
  const fs::path path = fs::absolute(file).lexically_normal();
  check_library_file(path);  // reads a few bytes only: safe in this process
  std::string sha = sha256_file(path);
  const ProbeVerdict verdict = probe_plugin_library(path, sha, probe_);
  if (!verdict.ok) throw PluginError(verdict.error);
  return load_plugin_library(path, std::move(sha));
}

void Registry::discover(const std::vector<fs::path>& dirs) {
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      warnings_.push_back(fmt::format("plugin folder {} does not exist", dir.string()));
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".so") files.push_back(entry.path());
    std::sort(files.begin(), files.end());  // a stable order makes "first wins" predictable
    for (const fs::path& file : files) {
      try {
        add(load(file));
      } catch (const Error& e) {
        warnings_.push_back(e.what());
      }
    }
  }
}

const PluginLibrary& Registry::add_file(const fs::path& file) { return add(load(file)); }

const PluginLibrary* Registry::find(PluginKind kind, std::string_view name) const {
  for (const auto& lib : libraries_)
    if (lib->kind() == kind && lib->name() == name) return lib.get();
  return nullptr;
}

std::vector<std::string> Registry::names(PluginKind kind) const {
  std::vector<std::string> out;
  for (const auto& lib : libraries_)
    if (lib->kind() == kind) out.push_back(lib->name());
  std::sort(out.begin(), out.end());
  return out;
}

std::string unknown_plugin_message(const Registry& registry, PluginKind kind, std::string_view name) {
  const auto names = registry.names(kind);
  std::string msg = fmt::format("unknown {} '{}' (available: {}", to_string(kind), name,
                                names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
  const auto close = closest_names(name, names);
  if (!close.empty()) msg += fmt::format("; did you mean: {}?", fmt::join(close, ", "));
  return msg + ")";
}

const PluginLibrary& Registry::get(PluginKind kind, std::string_view name) const {
  if (const PluginLibrary* lib = find(kind, name)) return *lib;
  throw ConfigError(unknown_plugin_message(*this, kind, name));
}

}  // namespace gantry
