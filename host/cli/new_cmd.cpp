// gantry new loss NAME [--direct]: writes a buildable out-of-tree loss plugin folder. The source
// is an installed example (examples/losses/my_loss.cpp, or my_direct_loss.cpp with --direct) with
// its name replaced, so what the docs show, what is installed and what is scaffolded are one text.
#include "cli/commands.hpp"
#include "cli/scaffolds.hpp"
#include "registry/registry.hpp"

#include <gantry/error.hpp>

#include <cctype>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <regex>

namespace gantry::cli {

namespace {

constexpr const char* cmake_template = R"TMPL(cmake_minimum_required(VERSION 3.25)
project({name} LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()

# gantry's installed SDK: headers, libgantry_sdk, the gantry program and gantry_add_plugin().
find_package(gantry CONFIG REQUIRED)
gantry_add_plugin(loss_{name} {name}.cpp)

# ctest runs gantry's own checks on the plugin: gradients against finite differences,
# finite values at large logits, and the sign convention, at the defaults and at each numeric
# parameter's range ends.
enable_testing()
add_test(NAME check_{name} COMMAND gantry::gantry check $<TARGET_FILE:loss_{name}>)
)TMPL";

constexpr const char* readme_template = R"TMPL(# {name}

A gantry loss plugin. Edit the loss in `{name}.cpp`, then:

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=<gantry install prefix>
cmake --build build
(cd build && ctest --output-on-failure)          # gantry check on the plugin
gantry --plugin-path build plugins --kind loss    # lists "{name}"
```

Use it in an experiment with `[loss]` / `plugin = "{name}"`, and run gantry with
`--plugin-path build` (or `GANTRY_PLUGIN_PATH=$PWD/build`). `gantry check --set key=value`
checks it at other parameter values; docs/writing-a-loss.md documents the whole interface.
)TMPL";

// The example's text with every whole-word `example` (its plugin name) replaced by `name`.
std::string with_name(std::string_view text, const std::string& example, const std::string& name) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::string out;
  size_t from = 0;
  for (size_t at = text.find(example); at != std::string_view::npos; at = text.find(example, at + 1)) {
    const size_t end = at + example.size();
    if ((at > 0 && word(text[at - 1])) || (end < text.size() && word(text[end]))) continue;
    out.append(text.substr(from, at - from)).append(name);
    from = end;
  }
  return out.append(text.substr(from));
}

// A new plugin named like one gantry already finds would never be loaded (the first found wins).
void refuse_shadowing(const std::string& name, const GlobalOptions& global) {
  Registry registry;
  registry.discover(Registry::search_path(global.plugin_paths));
  const PluginLibrary* lib = registry.find(PluginKind::loss, name);
  if (lib == nullptr) return;
  const bool builtin = lib->file.parent_path() == Registry::builtin_dir();
  throw ConfigError(fmt::format("'{0}' is already {1} ({2}): a new plugin of that name would be shadowed by it "
                                "(gantry loads the first it finds); choose another name, e.g. {0}_v2",
                                name, builtin ? "a built-in loss" : "a loss on gantry's plugin path", lib->file.string()));
}

}  // namespace

void add_new_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("new", "write a new plugin folder to fill in");
  auto kind = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto dir = std::make_shared<std::filesystem::path>(".");
  cmd->add_option("kind", *kind, "what to make (only 'loss' for now)")->required()->check(CLI::IsMember({"loss"}));
  cmd->add_option("name", *name, "the plugin's name: lower case letters, digits and _")->required();
  cmd->add_option("--dir", *dir, "folder to create the plugin's folder in")->capture_default_str();
  auto direct = std::make_shared<bool>(false);
  cmd->add_flag("--direct", *direct, "derive from gantry::Loss with hand-written gradients (a batch-coupled "
                                     "example) instead of writing a formula");
  cmd->callback([&global, &result, kind, name, dir, direct] {  // the options write into these: keep them alive
    if (!std::regex_match(*name, std::regex("[a-z][a-z0-9_]*")))
      throw ConfigError(fmt::format("'{}' is not a plugin name: use lower case letters, digits and _, "
                                    "starting with a letter", *name));
    refuse_shadowing(*name, global);
    const std::filesystem::path folder = *dir / *name;
    std::error_code ec;
    if (std::filesystem::exists(folder, ec) && !std::filesystem::is_empty(folder, ec))
      throw ConfigError(fmt::format("{} already exists and is not empty", folder.string()));
    std::filesystem::create_directories(folder);
    auto write = [&](const std::string& file, const std::string& text) {
      std::ofstream out(folder / file);
      out << text;
      if (!out) throw Error(fmt::format("cannot write {}", (folder / file).string()));
    };
    auto fill = [&](const char* tmpl) { return fmt::format(fmt::runtime(tmpl), fmt::arg("name", *name)); };
    write("CMakeLists.txt", fill(cmake_template));
    write(*name + ".cpp", *direct ? with_name(embedded::direct_loss, "my_direct_loss", *name)
                                  : with_name(embedded::formula_loss, "my_loss", *name));
    write("README.md", fill(readme_template));
    std::cout << fmt::format("wrote {0}/CMakeLists.txt, {0}/{1}.cpp and {0}/README.md\n"
                             "next: cmake -S {0} -B {0}/build -DCMAKE_PREFIX_PATH=<gantry prefix> && "
                             "cmake --build {0}/build && (cd {0}/build && ctest)\n",
                             folder.string(), *name);
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
