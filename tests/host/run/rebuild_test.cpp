// Edit a loss, rebuild it, run the sweep again: the rebuilt loss's trials run again, the others
// are skipped, and the results commands show the current build's runs unless --all-builds.
// The two builds are fixtures/rebuilt_loss.cpp compiled twice, copied in turn over one file.
#include "support/experiments.hpp"
#include "support/spawn.hpp"

#include <gantry/sha256.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sstream>

namespace gantry {
namespace {

namespace fs = std::filesystem;

const char* const hidden = "1 run(s) of superseded plugin builds hidden (--all-builds shows them)\n";
const char* const included =
    "1 run(s) of superseded plugin builds included (a later gantry run loaded other builds of their plugins)\n";

// CSV output as rows of cells (no quoting needed for these tables).
std::vector<std::vector<std::string>> csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    rows.emplace_back();
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) rows.back().push_back(cell);
  }
  return rows;
}

class Rebuild : public ::testing::Test {
 protected:
  test::TempDir dir;
  fs::path plugins = dir.path / "plugins";
  std::string db = (dir.path / "r.db").string();
  std::string toml = (dir.path / "rebuild.toml").string();

  void SetUp() override {
    fs::create_directories(plugins);
    std::string text = test::tiny_experiment("plugin = \"rebuilt\"", 20, "", "[sweep]\n\"loss.plugin\" = [\"rebuilt\", \"hinge\"]\n");
    text.replace(text.find("name = \"tiny\""), 13, "name = \"rebuild\"");
    std::ofstream(toml) << text;
  }

  static fs::path build_file(int build) {
    return fs::path(GANTRY_TEST_FIXTURE_DIR) / fmt::format("rebuilt{0}/fixture_rebuilt_loss_{0}.so", build);
  }
  // As a build would: the new library replaces the old file in one rename.
  void install(int build) {
    fs::copy_file(build_file(build), plugins / "next.so", fs::copy_options::overwrite_existing);
    fs::rename(plugins / "next.so", plugins / "loss_rebuilt.so");
  }
  test::Outcome gantry(std::vector<std::string> args) {
    args.insert(args.begin(), {"--plugin-path", plugins.string()});
    args.insert(args.end(), {"--db", db});
    return test::run_gantry(args, dir.path);
  }
  test::Outcome run() { return gantry({"run", toml, "--progress", "plain"}); }
  // Each row's first and last cell: run id and build, from `gantry runs --format csv`.
  std::vector<std::string> runs(bool all_builds, const std::string& expected_note) {
    std::vector<std::string> args{"runs", "rebuild", "--format", "csv"};
    if (all_builds) args.push_back("--all-builds");
    const test::Outcome o = gantry(args);
    EXPECT_EQ(o.code, 0) << o.err;
    EXPECT_EQ(o.err, expected_note);  // on standard error: the CSV stays data
    std::vector<std::string> out;
    const auto rows = csv(o.out);
    for (size_t i = 1; i < rows.size(); ++i) out.push_back(rows[i].front() + (all_builds ? " " + rows[i].back() : ""));
    return out;
  }
};

TEST_F(Rebuild, ARebuiltLossRerunsItsTrialsAndTheResultsShowTheCurrentBuild) {
  install(1);
  const test::Outcome first = run();
  ASSERT_EQ(first.code, 0) << first.out << first.err;
  EXPECT_EQ(first.out.find("already done"), std::string::npos) << first.out;
  EXPECT_EQ(test::count_runs(db, "status = 'completed'"), 2);

  install(2);
  const test::Outcome second = run();
  ASSERT_EQ(second.code, 0) << second.out << second.err;
  EXPECT_TRUE(second.out.starts_with(fmt::format(
      "1 of 2 trial(s) already done; 1 to run (--force reruns all)\n"
      "1 earlier run(s) used another build of loss 'rebuilt' (now sha256 {}); their trials run again\n"
      "[run 3 seed 0 loss.plugin=rebuilt] started\n",
      sha256_file(build_file(2)).substr(0, 12))))
      << second.out;
  EXPECT_NE(second.out.find("  run 2 seed 0: completed (earlier)\n"), std::string::npos) << second.out;
  EXPECT_EQ(test::count_runs(db, "status = 'completed'"), 3);  // run 1 stays: the result of build 1

  EXPECT_EQ(runs(false, hidden), (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(runs(true, included), (std::vector<std::string>{"1 superseded", "2 current", "3 current"}));

  const test::Outcome compare = gantry({"compare", "rebuild", "--metric", "modes.modes"});
  EXPECT_EQ(compare.code, 0) << compare.err;
  EXPECT_TRUE(compare.out.ends_with(hidden)) << compare.out;
  // With every build, run 1 joins the rebuilt loss's group.
  const test::Outcome all = gantry({"compare", "rebuild", "--metric", "modes.modes", "--format", "csv", "--all-builds"});
  EXPECT_EQ(all.err, included);
  const auto rows = csv(all.out);
  ASSERT_EQ(rows.size(), 3u) << all.out;
  const auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(rows[0].begin(), rows[0].end(), name) - rows[0].begin());
  };
  for (size_t i = 1; i < rows.size(); ++i)
    EXPECT_EQ(rows[i].at(column("n")), rows[i].at(column("loss.plugin")) == "rebuilt" ? "2" : "1") << all.out;

  EXPECT_EQ(gantry({"status"}).out, std::string("rebuild: 2 run(s): 2 completed\n  ") + hidden);
  EXPECT_EQ(gantry({"status", "--all-builds"}).out, std::string("rebuild: 3 run(s): 3 completed\n  ") + included);
  const test::Outcome report = gantry({"report", "rebuild", "-o", (dir.path / "r.html").string()});
  EXPECT_EQ(report.code, 0) << report.err;
  EXPECT_TRUE(report.out.ends_with(hidden)) << report.out;
  EXPECT_NE(test::read_text(dir.path / "r.html").find("<p>1 run(s) of superseded plugin builds hidden"), std::string::npos);
}

// Which build is current is what gantry last ran, not which run is newest: going back to build 1
// (reverting the edit) brings back its runs, and build 2's become the superseded ones.
TEST_F(Rebuild, GoingBackToAnEarlierBuildMakesItsRunsCurrentAgain) {
  install(1);
  ASSERT_EQ(run().code, 0);
  install(2);
  ASSERT_EQ(run().code, 0);
  install(1);
  const test::Outcome third = run();
  ASSERT_EQ(third.code, 0) << third.out << third.err;
  EXPECT_TRUE(third.out.starts_with("2 of 2 trial(s) already done; 0 to run (--force reruns all)\n\n")) << third.out;
  EXPECT_EQ(runs(true, included), (std::vector<std::string>{"1 current", "2 current", "3 superseded"}));
}

}  // namespace
}  // namespace gantry
