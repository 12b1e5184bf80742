// gantry new loss NAME: writes a buildable out-of-tree loss plugin folder.
#include "cli/commands.hpp"

#include <gantry/error.hpp>

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
# finite values at large logits, and the sign convention.
enable_testing()
add_test(NAME check_{name} COMMAND gantry::gantry check $<TARGET_FILE:loss_{name}>)
)TMPL";

constexpr const char* source_template = R"TMPL(// {name}: a GAN loss written as three per-sample terms on D's raw logits. gantry takes the
// batch means and derives the exact gradients with dual numbers, so only the formula is yours.
// Use gantry::softplus, gantry::sigmoid, gantry::relu, gantry::square, exp and log on T.
// A relativistic-average loss (each term on one logit and the mean of the other side's logits)
// derives from gantry::RelativisticFormulaLoss instead, with four terms: d_real(r, mean_fake),
// d_fake(f, mean_real), g_fake(f, mean_real), g_real(r, mean_fake); see <gantry/loss.hpp>.
#include <gantry/loss.hpp>

namespace {{

struct Formula {{
  double weight;  // an example parameter (declared in describe() below); remove or add your own

  // The non-saturating loss, as a starting point: replace these three lines with your formula.
  template <class T> T d_real(T r) const {{ return weight * gantry::softplus(-r); }}  // D, real logit r
  template <class T> T d_fake(T f) const {{ return weight * gantry::softplus(f); }}   // D, fake logit f
  template <class T> T g_fake(T f) const {{ return gantry::softplus(-f); }}           // G, fake logit f
}};

class Loss final : public gantry::FormulaLoss<Formula> {{
 public:
  Loss(const gantry::Params& p, const gantry::BuildContext&) : FormulaLoss(Formula{{p.real("weight")}}) {{}}
}};

gantry::PluginDescriptor describe() {{
  return {{gantry::PluginKind::loss, "{name}", "0.1.0", "{name} loss (made with gantry new loss)",
          {{gantry::real_param("weight", 1.0, "scale of D's loss", 0.0, {{}})}},
          gantry::factory_of<Loss>()}};
}}

}}  // namespace

GANTRY_PLUGIN(describe)
)TMPL";

constexpr const char* readme_template = R"TMPL(# {name}

A gantry loss plugin. Edit the formula in `{name}.cpp`, then:

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=<gantry install prefix>
cmake --build build
(cd build && ctest --output-on-failure)          # gantry check on the plugin
gantry --plugin-path build plugins --kind loss    # lists "{name}"
```

Use it in an experiment with `[loss]` / `plugin = "{name}"`, and run gantry with
`--plugin-path build` (or `GANTRY_PLUGIN_PATH=$PWD/build`).
)TMPL";

}  // namespace

void add_new_command(CLI::App& app, GlobalOptions& /*global*/, int& result) {
  auto* cmd = app.add_subcommand("new", "write a new plugin folder to fill in");
  auto kind = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto dir = std::make_shared<std::filesystem::path>(".");
  cmd->add_option("kind", *kind, "what to make (only 'loss' for now)")->required()->check(CLI::IsMember({"loss"}));
  cmd->add_option("name", *name, "the plugin's name: lower case letters, digits and _")->required();
  cmd->add_option("--dir", *dir, "folder to create the plugin's folder in")->capture_default_str();
  cmd->callback([&result, kind, name, dir] {  // the options write into these: keep them alive
    if (!std::regex_match(*name, std::regex("[a-z][a-z0-9_]*")))
      throw ConfigError(fmt::format("'{}' is not a plugin name: use lower case letters, digits and _, "
                                    "starting with a letter", *name));
    const std::filesystem::path folder = *dir / *name;
    std::error_code ec;
    if (std::filesystem::exists(folder, ec) && !std::filesystem::is_empty(folder, ec))
      throw ConfigError(fmt::format("{} already exists and is not empty", folder.string()));
    std::filesystem::create_directories(folder);
    auto write = [&](const std::string& file, const char* tmpl) {
      std::ofstream out(folder / file);
      out << fmt::format(fmt::runtime(tmpl), fmt::arg("name", *name));
      if (!out) throw Error(fmt::format("cannot write {}", (folder / file).string()));
    };
    write("CMakeLists.txt", cmake_template);
    write(*name + ".cpp", source_template);
    write("README.md", readme_template);
    std::cout << fmt::format("wrote {0}/CMakeLists.txt, {0}/{1}.cpp and {0}/README.md\n"
                             "next: cmake -S {0} -B {0}/build -DCMAKE_PREFIX_PATH=<gantry prefix> && "
                             "cmake --build {0}/build && (cd {0}/build && ctest)\n",
                             folder.string(), *name);
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
