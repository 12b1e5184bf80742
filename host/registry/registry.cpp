#include "registry/registry.hpp"

#include <gantry/sha256.hpp>
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <iostream>

namespace gantry {
namespace fs = std::filesystem;

namespace {
constexpr const char* entry_symbol = "gantry_plugin";
}

std::unique_ptr<PluginLibrary> load_plugin_library(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw PluginError(fmt::format("plugin '{}': no such file", file.string()));
  auto lib = std::make_unique<PluginLibrary>();
  lib->file = fs::absolute(file);
  try {
    lib->library.load(lib->file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw PluginError(fmt::format("plugin '{}': cannot load the library: {}", file.string(), e.what()));
  }
  if (!lib->library.has(entry_symbol))
    throw PluginError(fmt::format("plugin '{}': not a gantry plugin (no '{}' entry point; "
                                  "declare one with GANTRY_PLUGIN)", file.string(), entry_symbol));
  using EntryFn = const PluginEntry*();
  const PluginEntry* entry = lib->library.get_alias<EntryFn>(entry_symbol)();
  if (entry == nullptr) throw PluginError(fmt::format("plugin '{}': entry point returned nothing", file.string()));
  // Nothing but the version is touched until it matches: the rest of the layout may differ.
  if (entry->abi_version != abi_version)
    throw PluginError(fmt::format("plugin '{}': ABI version {}, gantry supports {} (rebuild the plugin "
                                  "against this gantry SDK)", file.filename().string(), entry->abi_version,
                                  abi_version));
  try {
    lib->descriptor = &entry->describe();
  } catch (const std::exception& e) {
    throw PluginError(fmt::format("plugin '{}': describing itself failed: {}", file.string(), e.what()));
  }
  if (lib->descriptor->name.empty() || !lib->descriptor->factory)
    throw PluginError(fmt::format("plugin '{}': descriptor has no name or no factory", file.string()));
  lib->sha256 = sha256_file(lib->file);
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

bool Registry::add(std::unique_ptr<PluginLibrary> lib) {
  if (const PluginLibrary* first = find(lib->kind(), lib->name())) {
    warnings_.push_back(fmt::format("{} plugin '{}' in {} is shadowed by {}", to_string(lib->kind()),
                                    lib->name(), lib->file.string(), first->file.string()));
    return false;
  }
  libraries_.push_back(std::move(lib));
  return true;
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
        add(load_plugin_library(file));
      } catch (const Error& e) {
        warnings_.push_back(e.what());
      }
    }
  }
}

const PluginLibrary& Registry::add_file(const fs::path& file) {
  auto lib = load_plugin_library(file);
  const PluginLibrary* raw = lib.get();
  if (!add(std::move(lib))) return *find(raw->kind(), raw->name());
  return *libraries_.back();
}

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
