#include "registry/registry.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace gantry {
namespace {

const std::string fixtures = GANTRY_TEST_FIXTURE_DIR;

std::string load_error(const std::string& path) {
  try {
    load_plugin_library(path);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "(loaded)";
}

TEST(Registry, LoadsAGoodPluginWithItsDescriptorAndHash) {
  auto lib = load_plugin_library(std::string(GANTRY_TEST_PLUGIN_DIR) + "/loss_minimax.so");
  EXPECT_EQ(lib->kind(), PluginKind::loss);
  EXPECT_EQ(lib->name(), "minimax");
  EXPECT_EQ(lib->descriptor->version, "1.0.0");
  EXPECT_EQ(lib->sha256.size(), 64u);
}

TEST(Registry, RefusesAnotherAbiVersionNamingBoth) {
  const std::string msg = load_error(fixtures + "/bad/fixture_wrong_abi.so");
  EXPECT_NE(msg.find(fmt::format("plugin 'fixture_wrong_abi.so': ABI version 999, gantry supports {}", abi_version)),
            std::string::npos)
      << msg;
}

TEST(Registry, MissingFileAndMissingEntryPointAreClearErrors) {
  EXPECT_NE(load_error(fixtures + "/nowhere.so").find("no such file"), std::string::npos);
  const std::string msg = load_error(fixtures + "/bad/fixture_no_entry.so");
  EXPECT_NE(msg.find("not a gantry plugin (no 'gantry_plugin' entry point"), std::string::npos) << msg;
  const std::string not_elf = load_error(std::string(GANTRY_TEST_SOURCE_DIR) + "/CMakeLists.txt");
  EXPECT_NE(not_elf.find("cannot load the library"), std::string::npos) << not_elf;
}

TEST(Registry, DiscoversEveryBuiltinPlugin) {
  Registry r;
  r.discover({GANTRY_TEST_PLUGIN_DIR});
  EXPECT_TRUE(r.warnings().empty());
  EXPECT_EQ(r.names(PluginKind::data), (std::vector<std::string>{"fashion_mnist", "grid25", "ring8", "swissroll"}));
  EXPECT_EQ(r.names(PluginKind::loss),
            (std::vector<std::string>{"hinge", "least_squares", "minimax", "nonsaturating", "wasserstein"}));
  EXPECT_EQ(r.names(PluginKind::metric), (std::vector<std::string>{"disc_accuracy", "image_quality", "modes"}));
  EXPECT_NE(r.find(PluginKind::generator, "mlp"), nullptr);
  EXPECT_NE(r.find(PluginKind::discriminator, "mlp"), nullptr);
  EXPECT_EQ(r.names(PluginKind::generator), (std::vector<std::string>{"dcgan", "mlp"}));
  EXPECT_EQ(r.names(PluginKind::discriminator), (std::vector<std::string>{"dcgan", "mlp"}));
}

TEST(Registry, BadFilesInAFolderBecomeWarnings) {
  Registry r;
  r.discover({fixtures + "/bad"});
  EXPECT_EQ(r.all().size(), 0u);
  ASSERT_EQ(r.warnings().size(), 2u);
}

TEST(Registry, FirstFoundWinsWithAWarning) {
  Registry r;
  r.discover({GANTRY_TEST_PLUGIN_DIR, fixtures + "/shadow"});
  EXPECT_EQ(r.find(PluginKind::loss, "nonsaturating")->descriptor->version, "1.0.0");
  ASSERT_EQ(r.warnings().size(), 1u);
  EXPECT_NE(r.warnings()[0].find("is shadowed by"), std::string::npos);
}

TEST(Registry, UnknownPluginListsWhatExistsAndTheClosest) {
  Registry r;
  r.discover({GANTRY_TEST_PLUGIN_DIR});
  try {
    r.get(PluginKind::loss, "wasserstien");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown loss 'wasserstien' (available: hinge, least_squares, minimax, nonsaturating, wasserstein; did you mean: "
                 "wasserstein?)");
  }
}

TEST(Registry, SearchPathHonoursTheEnvironmentThenTheCommandLine) {
  setenv("GANTRY_PLUGIN_PATH", "/a:/b", 1);
  const auto dirs = Registry::search_path({"/c"});
  unsetenv("GANTRY_PLUGIN_PATH");
  ASSERT_EQ(dirs.size(), 4u);
  EXPECT_EQ(dirs[1], "/a");
  EXPECT_EQ(dirs[2], "/b");
  EXPECT_EQ(dirs[3], "/c");
}

}  // namespace
}  // namespace gantry
