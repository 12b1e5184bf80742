#include "registry/registry.hpp"

#include <gantry/error.hpp>
#include <gantry/sha256.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include "support/spawn.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace gantry {
namespace {

namespace fs = std::filesystem;

const std::string fixtures = GANTRY_TEST_FIXTURE_DIR;
const std::string plugin_dir = GANTRY_TEST_PLUGIN_DIR;

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "gantry-registry-XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

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

TEST(Registry, RefusesAnotherAbiVersionNamingPathAndBoth) {
  EXPECT_EQ(load_error(fixtures + "/bad/fixture_wrong_abi.so"),
            fmt::format("plugin '{}/bad/fixture_wrong_abi.so': ABI version 999, gantry supports {} (rebuild the plugin "
                        "against this gantry SDK)", fixtures, abi_version));
}

TEST(Registry, BuildFingerprintNamesSdkCompilerAndStringAbi) {
  EXPECT_EQ(std::string(build_fingerprint()), fmt::format("gantry 0.1.0; GCC {}; libstdc++ cxx11 ABI 1", __GNUC__));
}

TEST(Registry, RefusesAForgedBuildFingerprintShowingBoth) {
  EXPECT_EQ(load_error(fixtures + "/fingerprint/fixture_forged_fingerprint.so"),
            fmt::format("plugin '{}/fingerprint/fixture_forged_fingerprint.so': built as \"gantry 0.0.9 (forged)\", "
                        "gantry is \"{}\" (rebuild the plugin against this gantry SDK with the same compiler)",
                        fixtures, build_fingerprint()));
}

TEST(Registry, RefusesAPluginBuiltWithTheOldStringAbi) {
  // Built with -D_GLIBCXX_USE_CXX11_ABI=0: same ABI number, another std::string layout.
  EXPECT_EQ(load_error(fixtures + "/fingerprint/fixture_old_string_abi.so"),
            fmt::format("plugin '{}/fingerprint/fixture_old_string_abi.so': built as \"gantry 0.1.0; GCC {}; libstdc++ "
                        "cxx11 ABI 0\", gantry is \"{}\" (rebuild the plugin against this gantry SDK with the same "
                        "compiler)", fixtures, __GNUC__, build_fingerprint()));
}

TEST(Registry, MissingFileAndMissingEntryPointAreClearErrors) {
  EXPECT_EQ(load_error(fixtures + "/nowhere.so"), fmt::format("plugin '{}/nowhere.so': no such file", fixtures));
  EXPECT_EQ(load_error(fixtures + "/bad/fixture_no_entry.so"),
            fmt::format("plugin '{}/bad/fixture_no_entry.so': not a gantry plugin (no 'gantry_plugin' entry point; "
                        "declare one with GANTRY_PLUGIN)", fixtures));
}

TEST(Registry, DirectoriesAndTextFilesNamedLikeLibrariesAreWarningsNamingTheCause) {
  TempDir dir;
  fs::create_directory(dir.path() / "folder.so");
  std::ofstream(dir.path() / "text.so") << "INPUT(libfoo.so)\n";
  Registry r;
  r.discover({dir.path()});
  EXPECT_TRUE(r.all().empty());
  EXPECT_EQ(r.warnings(), (std::vector<std::string>{
                              fmt::format("plugin '{}/folder.so': is a directory, not a plugin library", dir.path().string()),
                              fmt::format("plugin '{}/text.so': not an ELF shared library (no ELF header)", dir.path().string())}));
}

TEST(Registry, AnElfFileThatIsNotALibraryShowsDlopensReason) {
  TempDir dir;
  std::ofstream(dir.path() / "truncated.so") << "\x7f" "ELF and nothing else";
  const std::string msg = load_error((dir.path() / "truncated.so").string());
  EXPECT_EQ(msg.rfind(fmt::format("plugin '{}/truncated.so': cannot load the library: ", dir.path().string()), 0), 0u) << msg;
  EXPECT_NE(msg.find("file too short"), std::string::npos) << msg;
}

// Each rule a descriptor can break, with the exact refusal (after "plugin '<path>': ").
struct DescriptorCase {
  const char* name;
  const char* message;
};

class BadDescriptor : public ::testing::TestWithParam<DescriptorCase> {};

TEST_P(BadDescriptor, IsRefusedNamingFileAndField) {
  const std::string file = fmt::format("{}/descriptors/fixture_descriptor_{}.so", fixtures, GetParam().name);
  EXPECT_EQ(load_error(file), fmt::format("plugin '{}': {}", file, GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    All, BadDescriptor,
    ::testing::Values(
        DescriptorCase{"empty_name", "descriptor has an empty name"},
        DescriptorCase{"dotted_name", "name 'a.b' has characters outside [A-Za-z0-9_-]"},
        DescriptorCase{"nul_name", "name 'ab\\x00c' has characters outside [A-Za-z0-9_-]"},
        DescriptorCase{"quoted_name", "name 'it's' has characters outside [A-Za-z0-9_-]"},
        DescriptorCase{"bad_kind", "unknown plugin kind 9 (expected 0 to 4: data, generator, discriminator, loss, metric)"},
        DescriptorCase{"no_factory", "loss 'hostile' has no factory"},
        DescriptorCase{"empty_param", "loss 'hostile': parameter 2 has an empty name"},
        DescriptorCase{"bad_param_name",
                       "loss 'hostile': parameter 'learning-rate' is not a valid name (expected [A-Za-z_][A-Za-z0-9_]*)"},
        DescriptorCase{"reserved_param", "loss 'hostile': parameter 'plugin' is reserved (the key that chooses the plugin)"},
        DescriptorCase{"duplicate_param", "loss 'hostile': parameter 'lr' is declared twice"},
        DescriptorCase{"wrong_default_type", "loss 'hostile': parameter 'steps': default: expected integer, found real '0.5'"},
        DescriptorCase{"default_out_of_range",
                       "loss 'hostile': parameter 'rate': default: 2.0 is out of range (expected range [0, 1])"},
        DescriptorCase{"default_not_a_choice",
                       "loss 'hostile': parameter 'mode': default: 'c' is not allowed (expected one of: a, b)"},
        DescriptorCase{"min_above_max", "loss 'hostile': parameter 'rate': min 1 is above max 0"},
        DescriptorCase{"nan_default", "loss 'hostile': parameter 'rate': default is nan, expected a finite number"},
        DescriptorCase{"inf_bound", "loss 'hostile': parameter 'rate': max is inf, expected a finite number"},
        DescriptorCase{"metric_no_keys", "metric 'hostile' declares no metric keys"},
        DescriptorCase{"metric_duplicate_key", "metric 'hostile': metric key 'fd' is declared twice"},
        DescriptorCase{"metric_bad_key_name",
                       "metric 'hostile': metric key 'f.d' is not a valid name (expected [A-Za-z_][A-Za-z0-9_]*)"},
        DescriptorCase{"metric_no_primary", "metric 'hostile' names no primary key (expected one of: fd, kid)"},
        DescriptorCase{"metric_unknown_primary", "metric 'hostile': primary key 'fid' is not one of its keys (fd, kid)"},
        DescriptorCase{"metric_bad_direction", "metric 'hostile': metric key 'fd' has unknown direction 7"},
        DescriptorCase{"loss_with_keys", "loss 'hostile' declares metric keys (only metrics have keys)"},
        DescriptorCase{"metric_named_loss", "metric name 'loss' is reserved for the trainer's loss curves"},
        DescriptorCase{"control_in_version", "loss 'hostile': version '1.0\\x1b[2J' holds a control character"},
        DescriptorCase{"long_description", "loss 'hostile': description is 5000 bytes long, at most 1000 allowed"},
        DescriptorCase{"control_in_doc", "loss 'hostile': parameter 'rate' doc 'a\\x00b' holds a control character"},
        DescriptorCase{"duplicate_choice", "loss 'hostile': parameter 'mode': choice 'a' is listed twice"},
        DescriptorCase{"empty_choice", "loss 'hostile': parameter 'mode': has an empty choice"},
        DescriptorCase{"fractional_integer_bound",
                       "loss 'hostile': parameter 'n': bound 0.5 of an integer parameter is not a whole number"},
        DescriptorCase{"unknown_need",
                       "loss 'hostile' needs 'inception_v3', which gantry does not provide (known: reference_classifier)"}),
    [](const ::testing::TestParamInfo<DescriptorCase>& param_info) { return std::string(param_info.param.name); });

TEST(Registry, BadDescriptorsInAFolderAreWarningsFromTheProbe) {
  Registry r;
  r.discover({fixtures + "/descriptors"});
  EXPECT_TRUE(r.all().empty());
  ASSERT_EQ(r.warnings().size(), 31u);  // one per case of GANTRY_DESCRIPTOR_CASES
  EXPECT_EQ(r.warnings()[0], fmt::format("plugin '{}/descriptors/fixture_descriptor_bad_kind.so': unknown plugin kind 9 "
                                         "(expected 0 to 4: data, generator, discriminator, loss, metric)", fixtures));
}

TEST(Registry, MetricsDeclareTheirKeysAndAPrimaryOne) {
  Registry r;
  r.discover({plugin_dir});
  const PluginDescriptor& modes = *r.get(PluginKind::metric, "modes").descriptor;
  ASSERT_EQ(modes.metric_keys.size(), 4u);
  EXPECT_EQ(modes.metric_keys[3].name, "class_hit");
  EXPECT_EQ(modes.metric_keys[1].name, "modes");
  EXPECT_EQ(modes.metric_keys[2].direction, Direction::lower_is_better);
  EXPECT_EQ(modes.primary_key, "modes");
  EXPECT_EQ(r.get(PluginKind::metric, "image_quality").descriptor->primary_key, "fd");
  EXPECT_EQ(r.get(PluginKind::metric, "image_quality").descriptor->needs, std::vector<std::string>{"reference_classifier"});
  EXPECT_TRUE(modes.needs.empty());
  EXPECT_EQ(r.get(PluginKind::metric, "disc_accuracy").descriptor->primary_key, "accuracy");
  EXPECT_TRUE(r.get(PluginKind::loss, "minimax").descriptor->metric_keys.empty());
}

TEST(RegistryProbe, LibrariesThatCrashAtLoadAreWarningsNamingPathAndCause) {
  Registry r;
  r.discover({plugin_dir, fixtures + "/crash"});
  EXPECT_EQ(r.names(PluginKind::loss),
            (std::vector<std::string>{"hinge", "least_squares", "minimax", "nonsaturating", "ragan", "rahinge", "ralsgan",
                                      "rsgan", "wasserstein"}));
  const std::string dir = fixtures + "/crash";
  EXPECT_EQ(r.warnings(), (std::vector<std::string>{
                              fmt::format("plugin '{}/fixture_abort_at_load.so': crashed while loading: killed by "
                                          "signal SIGABRT (Aborted)", dir),
                              fmt::format("plugin '{}/fixture_exit_at_load.so': crashed while loading: exited with "
                                          "status 0", dir),
                              fmt::format("plugin '{}/fixture_segfault_in_describe.so': crashed while loading: killed "
                                          "by signal SIGSEGV (Segmentation fault)", dir)}));
}

TEST(RegistryProbe, ALibraryThatHangsAtLoadIsKilledAfterTheTimeout) {
  Registry r(ProbeOptions{std::chrono::milliseconds(300)});
  r.discover({fixtures + "/hang"});
  EXPECT_TRUE(r.all().empty());
  EXPECT_EQ(r.warnings(), (std::vector<std::string>{fmt::format(
                              "plugin '{}/hang/fixture_hang_at_load.so': hung while loading: no answer within 0.3 s, "
                              "killed", fixtures)}));
}

TEST(RegistryProbe, GoodVerdictsAreCachedByFileHashAndFingerprint) {
  TempDir cache;
  ScopedEnv env("GANTRY_CACHE_DIR", cache.path().string());
  const fs::path file = fs::path(plugin_dir) / "loss_minimax.so";
  const std::string sha = sha256_file(file);
  const ProbeVerdict first = probe_plugin_library(file, sha);
  EXPECT_TRUE(first.ok);
  EXPECT_FALSE(first.cached);
  EXPECT_EQ(probe_cache_dir(), cache.path() / "plugin-probes");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(cache.path() / "plugin-probes")) ++entries;
  EXPECT_EQ(entries, 1u);
  const ProbeVerdict second = probe_plugin_library(file, sha);
  EXPECT_TRUE(second.ok);
  EXPECT_TRUE(second.cached);
  // Another file content (here: another hash) is probed again.
  EXPECT_FALSE(probe_plugin_library(file, std::string(64, '0')).cached);
}

TEST(RegistryProbe, BadVerdictsAreNotCachedAndAnUnwritableCacheProbesEveryTime) {
  ScopedEnv env("GANTRY_CACHE_DIR", "/proc/gantry-cannot-write-here");
  const fs::path good = fs::path(plugin_dir) / "loss_minimax.so";
  const std::string sha = sha256_file(good);
  EXPECT_TRUE(probe_plugin_library(good, sha).ok);
  EXPECT_FALSE(probe_plugin_library(good, sha).cached);
  const fs::path bad = fs::path(fixtures) / "crash" / "fixture_abort_at_load.so";
  TempDir cache;
  ScopedEnv env2("GANTRY_CACHE_DIR", cache.path().string());
  EXPECT_FALSE(probe_plugin_library(bad, sha256_file(bad)).ok);
  EXPECT_FALSE(probe_plugin_library(bad, sha256_file(bad)).ok);
  EXPECT_FALSE(fs::exists(cache.path() / "plugin-probes"));
}

TEST(RegistryProbe, TheChildKeepsNoInheritedDescriptor) {
  // A descriptor the parent opened without O_CLOEXEC (as a careless library might): the child
  // must not keep it, which its /proc/self/fd shows. Probed through a plugin that reports it.
  TempDir dir;
  const int fd = open((dir.path() / "precious").c_str(), O_CREAT | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  const ProbeVerdict v = probe_plugin_library(fixtures + "/probe/fixture_fd_reporter.so", "no-cache");
  close(fd);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.error, fmt::format("plugin '{}/probe/fixture_fd_reporter.so': describing itself failed: open "
                                 "descriptors: 0 1 2 3", fixtures));
}

TEST(Registry, DiscoversEveryBuiltinPlugin) {
  Registry r;
  r.discover({GANTRY_TEST_PLUGIN_DIR});
  EXPECT_TRUE(r.warnings().empty());
  EXPECT_EQ(r.names(PluginKind::data), (std::vector<std::string>{"fashion_mnist", "grid25", "image_folder", "ring8", "swissroll"}));
  EXPECT_EQ(r.names(PluginKind::loss),
            (std::vector<std::string>{"hinge", "least_squares", "minimax", "nonsaturating", "ragan", "rahinge", "ralsgan",
                                      "rsgan", "wasserstein"}));
  EXPECT_EQ(r.names(PluginKind::metric), (std::vector<std::string>{"disc_accuracy", "image_quality", "modes", "pixel_quality"}));
  EXPECT_NE(r.find(PluginKind::generator, "mlp"), nullptr);
  EXPECT_NE(r.find(PluginKind::discriminator, "mlp"), nullptr);
  EXPECT_EQ(r.names(PluginKind::generator), (std::vector<std::string>{"dcgan", "mlp", "resnet"}));
  EXPECT_EQ(r.names(PluginKind::discriminator), (std::vector<std::string>{"dcgan", "mlp", "resnet"}));
}

TEST(Registry, BadFilesInAFolderBecomeWarnings) {
  Registry r;
  r.discover({fixtures + "/bad"});
  EXPECT_EQ(r.all().size(), 0u);
  EXPECT_EQ(r.warnings(), (std::vector<std::string>{
                              fmt::format("plugin '{}/bad/fixture_no_entry.so': not a gantry plugin (no 'gantry_plugin' "
                                          "entry point; declare one with GANTRY_PLUGIN)", fixtures),
                              fmt::format("plugin '{}/bad/fixture_wrong_abi.so': ABI version 999, gantry supports {} "
                                          "(rebuild the plugin against this gantry SDK)", fixtures, abi_version)}));
}

TEST(Registry, AddingAShadowedFileReturnsThePluginThatWon) {
  // add_file once read the shadowed library after add() had unloaded it (ASan: use after free).
  Registry r;
  r.discover({plugin_dir});
  const PluginLibrary& kept = r.add_file(fixtures + "/shadow/fixture_shadow_loss.so");
  EXPECT_EQ(&kept, r.find(PluginKind::loss, "nonsaturating"));
  EXPECT_EQ(kept.descriptor->version, "1.1.0");
  ASSERT_EQ(r.warnings().size(), 1u);
  EXPECT_EQ(r.warnings()[0], fmt::format("loss plugin 'nonsaturating' in {}/shadow/fixture_shadow_loss.so is shadowed "
                                         "by {}/loss_nonsaturating.so", fixtures, plugin_dir));
}

TEST(Registry, FirstFoundWinsWithAWarning) {
  Registry r;
  r.discover({GANTRY_TEST_PLUGIN_DIR, fixtures + "/shadow"});
  EXPECT_EQ(r.find(PluginKind::loss, "nonsaturating")->descriptor->version, "1.1.0");
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
                 "unknown loss 'wasserstien' (available: hinge, least_squares, minimax, nonsaturating, ragan, rahinge, "
                 "ralsgan, rsgan, wasserstein; did you mean: wasserstein?)");
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

namespace gantry {
namespace {

using test::Outcome;

// Runs the gantry program with `args`, capturing stdout and stderr apart.
Outcome run_gantry(const std::vector<std::string>& args) {
  TempDir dir;
  return test::run_gantry(args, dir.path());
}

TEST(PluginsCommand, LibrariesThatCrashAtLoadAreWarningsAndTheBuiltinsStillList) {
  const Outcome o = run_gantry({"--plugin-path", fixtures + "/crash", "plugins", "--kind", "loss"});
  EXPECT_EQ(o.code, 0);
  const std::string dir = fixtures + "/crash";
  EXPECT_EQ(o.err, fmt::format("gantry: warning: plugin '{0}/fixture_abort_at_load.so': crashed while loading: killed "
                               "by signal SIGABRT (Aborted)\n"
                               "gantry: warning: plugin '{0}/fixture_exit_at_load.so': crashed while loading: exited "
                               "with status 0\n"
                               "gantry: warning: plugin '{0}/fixture_segfault_in_describe.so': crashed while loading: "
                               "killed by signal SIGSEGV (Segmentation fault)\n", dir));
  for (const char* loss : {"loss hinge ", "loss least_squares ", "loss minimax ", "loss nonsaturating ", "loss ragan ",
                           "loss rahinge ", "loss ralsgan ", "loss rsgan ", "loss wasserstein "})
    EXPECT_NE(o.out.find(loss), std::string::npos) << loss;
}

TEST(PluginsCommand, MetricsShowTheirKeysWithDirectionAndThePrimaryOne) {
  const Outcome o = run_gantry({"plugins", "--kind", "metric"});
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.err, "");
  EXPECT_NE(o.out.find("  keys (* = primary, the one compare and report use by default):\n"
                       "    high_quality   higher is better  % of samples within threshold std of a mode\n"
                       "  * modes          higher is better  modes hit by at least one high-quality sample\n"
                       "    reverse_kl     lower is better   KL(mode histogram || uniform), nats; log K when no sample is "
                       "high-quality\n"),
            std::string::npos)
      << o.out;
}

}  // namespace
}  // namespace gantry
