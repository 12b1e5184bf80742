#pragma once
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

/// Loads one plugin file, checking its entry point and ABI version before calling anything else.
/// Throws PluginError naming the file and the problem.
std::unique_ptr<PluginLibrary> load_plugin_library(const std::filesystem::path& file);

/// The plugins gantry can use, found in order: the built-in folder, GANTRY_PLUGIN_PATH, then
/// --plugin-path folders. The same kind and name twice: the first wins, with a warning.
class Registry {
 public:
  /// The built-in folder: <dir of the gantry binary>/../lib/gantry/plugins.
  static std::filesystem::path builtin_dir();
  /// Folders to search: built-in, then GANTRY_PLUGIN_PATH (':'-separated), then `extra`.
  static std::vector<std::filesystem::path> search_path(const std::vector<std::filesystem::path>& extra);

  /// Loads every *.so in the folders. Problems with single files become warnings.
  void discover(const std::vector<std::filesystem::path>& dirs);
  /// Adds one library (a file named on the command line); errors throw.
  const PluginLibrary& add_file(const std::filesystem::path& file);

  /// nullptr when no plugin of that kind has that name.
  const PluginLibrary* find(PluginKind kind, std::string_view name) const;
  /// Like find, but throws ConfigError listing the available names and the closest ones.
  const PluginLibrary& get(PluginKind kind, std::string_view name) const;
  std::vector<std::string> names(PluginKind kind) const;
  const std::vector<std::unique_ptr<PluginLibrary>>& all() const { return libraries_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  bool add(std::unique_ptr<PluginLibrary> lib);
  std::vector<std::unique_ptr<PluginLibrary>> libraries_;
  std::vector<std::string> warnings_;
};

/// "unknown loss 'wgan' (available: minimax, wasserstein; did you mean: wasserstein?)"
std::string unknown_plugin_message(const Registry& registry, PluginKind kind, std::string_view name);

}  // namespace gantry
