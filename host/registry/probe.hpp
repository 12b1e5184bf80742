#pragma once
// Probing a plugin library in a child process. Loading a library runs its static initialisers
// in the loading process, and describe() is plugin code too: a library that aborts, segfaults,
// exits or hangs there must cost a warning, not the gantry process that wanted to list it.
#include <chrono>
#include <filesystem>
#include <string>

namespace gantry {

struct ProbeOptions {
  std::chrono::milliseconds timeout{10000};  ///< then the child is killed and the library refused
};

struct ProbeVerdict {
  bool ok = false;
  std::string error;    ///< when not ok: "plugin '/abs/x.so': ..."
  bool cached = false;  ///< ok from the cache, no child was started
};

/// Folder of cached "ok" verdicts: $GANTRY_CACHE_DIR/plugin-probes, else
/// ${XDG_CACHE_HOME:-$HOME/.cache}/gantry/plugin-probes.
std::filesystem::path probe_cache_dir();

/// Loads `file` (an absolute path) in a forked child that keeps no descriptor but its result
/// pipe, runs the same checks as load_plugin_library, and reports. Good verdicts are cached by
/// the file's SHA-256 (`sha256`) and the host's build fingerprint; an unwritable cache means
/// probing every time.
ProbeVerdict probe_plugin_library(const std::filesystem::path& file, const std::string& sha256,
                                  const ProbeOptions& options = {});

}  // namespace gantry
