#pragma once
#include "registry/probe.hpp"

#include <gantry/plugin.hpp>

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace gantry {

/// One loaded plugin library. The library stays loaded as long as this object lives, so every
/// object its factory makes must be destroyed first (the Registry outlives trials).
struct PluginLibrary {
  std::filesystem::path file;
  std::string sha256;
  boost::dll::shared_library library;
  const PluginDescriptor* descriptor = nullptr;  // lives inside `library`

  PluginKind kind() const { return descriptor->kind; }
  const std::string& name() const { return descriptor->name; }
};

/// Checks, without loading it, that `file` can be a plugin library: it exists, is a regular file
/// and starts with an ELF header. Throws PluginError naming the full path and what it is instead.
void check_library_file(const std::filesystem::path& file);

/// Checks a descriptor's static data (names, parameter schema, metric keys). Throws PluginError
/// naming `file` and the offending field.
void validate_descriptor(const PluginDescriptor& descriptor, const std::filesystem::path& file);

/// Loads one plugin file in this process: its static initialisers run here. Checks the entry
/// point, the ABI version, then the build fingerprint, before calling describe(); then validates
/// the descriptor. Throws PluginError naming the full path and the problem. `sha256` is the
/// file's, when the caller has it already.
std::unique_ptr<PluginLibrary> load_plugin_library(const std::filesystem::path& file, std::string sha256 = {});

/// The plugins gantry can use, found in order: the built-in folder, GANTRY_PLUGIN_PATH, then
/// --plugin-path folders. The same kind and name twice: the first wins, with a warning. Every
/// library is probed in a child process before this one loads it (probe.hpp).
class Registry {
 public:
  explicit Registry(ProbeOptions probe = {}) : probe_(probe) {}

  /// The built-in folder: <dir of the gantry binary>/../lib/gantry/plugins.
  static std::filesystem::path builtin_dir();
  /// Folders to search: built-in, then GANTRY_PLUGIN_PATH (':'-separated), then `extra`.
  static std::vector<std::filesystem::path> search_path(const std::vector<std::filesystem::path>& extra);

  /// Loads every *.so in the folders. Problems with single files become warnings.
  void discover(const std::vector<std::filesystem::path>& dirs);
  /// Adds one library (a file named on the command line); errors throw. Returns the library
  /// now registered under its kind and name: an earlier one when this file is shadowed.
  const PluginLibrary& add_file(const std::filesystem::path& file);

  /// nullptr when no plugin of that kind has that name.
  const PluginLibrary* find(PluginKind kind, std::string_view name) const;
  /// Like find, but throws ConfigError listing the available names and the closest ones.
  const PluginLibrary& get(PluginKind kind, std::string_view name) const;
  std::vector<std::string> names(PluginKind kind) const;
  const std::vector<std::unique_ptr<PluginLibrary>>& all() const { return libraries_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::unique_ptr<PluginLibrary> load(const std::filesystem::path& file) const;
  const PluginLibrary& add(std::unique_ptr<PluginLibrary> lib);
  ProbeOptions probe_;
  std::vector<std::unique_ptr<PluginLibrary>> libraries_;
  std::vector<std::string> warnings_;
};

/// "unknown loss 'wgan' (available: minimax, wasserstein; did you mean: wasserstein?)"
std::string unknown_plugin_message(const Registry& registry, PluginKind kind, std::string_view name);

/// `text` with every byte outside printable ASCII written as \xNN, cut at `limit` bytes: names
/// and fingerprints come from plugins and may hold anything.
std::string ascii_printable(std::string_view text, size_t limit = 200);

}  // namespace gantry
