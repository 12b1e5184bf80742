// A run's identity covers its plugins' binaries; a database of schema 4 migrates to it without
// losing its runs; runs of superseded plugin builds are found from the database alone.
#include "results/compare.hpp"
#include "results/query.hpp"
#include "run/runner.hpp"
#include "store/schema.sql.hpp"
#include "store/store.hpp"

#include "support/experiments.hpp"
#include "support/sql.hpp"
#include "support/plugins.hpp"

#include <gantry/sha256.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sstream>

namespace gantry {
namespace {

using test::text;

Experiment two_seeds() {
  std::string toml = test::tiny_experiment("plugin = \"nonsaturating\"", 20);
  toml.replace(toml.find("name = \"tiny\""), 13, "name = \"tiny\"\nseeds = [0, 1]");
  return parse_experiment(toml, "tiny.toml", test::builtin_registry());
}

TEST(Identity, CoversTheBinaryOfEveryPluginTheTrialLoads) {
  const Experiment exp = two_seeds();
  const Trial& t = exp.trials[0];
  EXPECT_EQ(t.config_identity, config_identity(t.config));
  EXPECT_EQ(t.identity, trial_identity(t.config));
  std::string lines;  // sorted by section
  for (const char* section : {"data", "discriminator", "generator", "loss", "metrics.disc_accuracy", "metrics.modes"}) {
    const auto plugins = t.config.plugins();
    const auto it = std::find_if(plugins.begin(), plugins.end(), [&](const PluginChoice* c) { return c->section == section; });
    ASSERT_NE(it, plugins.end()) << section;
    EXPECT_EQ((*it)->library->sha256, sha256_file((*it)->library->file)) << section;
    lines += fmt::format("{}={}\n", section, (*it)->library->sha256);
  }
  EXPECT_EQ(t.identity, sha256_hex("gantry-trial-v2\n" + t.config_identity + "\n" + lines));

  std::vector<std::pair<std::string, std::string>> builds;
  for (const PluginChoice* c : t.config.plugins()) builds.emplace_back(c->section, c->library->sha256);
  std::reverse(builds.begin(), builds.end());
  EXPECT_EQ(trial_identity(t.config_identity, builds), t.identity);  // the order does not matter
  for (auto& [section, sha256] : builds) {
    const std::string kept = sha256;
    sha256 = std::string(64, '0');
    EXPECT_NE(trial_identity(t.config_identity, builds), t.identity) << "a rebuilt " << section << " is the same trial";
    sha256 = kept;
  }
  EXPECT_NE(exp.trials[1].config_identity, t.config_identity);  // the seed is part of the settings
}

TEST(Identity, AFileGivenByPathHasItsHash) {
  Registry registry;
  const std::string file = std::string(GANTRY_TEST_FIXTURE_DIR) + "/rebuilt1/fixture_rebuilt_loss_1.so";
  const PluginLibrary& lib = registry.add_file(file);
  EXPECT_EQ(lib.sha256, sha256_file(file));
  EXPECT_EQ(lib.sha256.size(), 64u);
}

// A database as gantry wrote schema 4, from that schema's own statements: no application id, and
// a run's identity was what is now its config identity.
class FromSchemaFour : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path path = dir.path / "v4.db";
  const Experiment exp = two_seeds();
  std::ostringstream log;
  const std::string old_loss = std::string(64, 'f');  // a build of nonsaturating that is gone

  void SetUp() override {
    Database db(path);
    for (const char* sql : {schema::v1, schema::v2_from_v1, schema::v3_from_v2, schema::v4_from_v3}) db.exec(sql);
    db.exec("PRAGMA user_version = 4");
    db.exec("INSERT INTO experiments(id, name, created_at, updated_at) VALUES (1, 'tiny', 'then', 'then')");
    // Seed 0 with today's binaries; seed 1, later, with another build of the loss; a run with no
    // plugins rows (seed 7).
    insert(db, 1, exp.trials[0], "2026-01-01T00:00:00Z", "");
    insert(db, 2, exp.trials[1], "2026-01-02T00:00:00Z", old_loss);
    db.exec("INSERT INTO runs(id, experiment_id, identity, seed, status, steps, created_at) "
            "VALUES (3, 1, 'no-plugins-identity', 7, 'completed', 20, '2026-01-03T00:00:00Z')");
    db.exec("INSERT INTO params SELECT 3, key, value FROM params WHERE run_id = 1");
    db.exec("INSERT INTO metrics VALUES (3, 'modes.modes', 20, 3)");
  }

  // What gantry 4 wrote for a completed run: runs, params, plugins (the loss's hash replaced by
  // `loss_sha256` unless empty) and, here, one final metric.
  static void insert(Database& db, int64_t id, const Trial& t, const std::string& started, const std::string& loss_sha256) {
    db.exec(fmt::format("INSERT INTO runs(id, experiment_id, identity, seed, status, step, steps, created_at, started_at) "
                        "VALUES ({}, 1, '{}', {}, 'completed', 20, 20, '{}', '{}')",
                        id, config_identity(t.config), t.config.seed, started, started));
    auto param = db.prepare("INSERT INTO params VALUES (?1, ?2, ?3)");
    for (const auto& [key, value] : config_leaves(t.config)) {
      param.bind(1, id).bind(2, key).bind_value(3, value);
      param.run();
    }
    auto plugin = db.prepare("INSERT INTO plugins VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    for (const PluginChoice* c : t.config.plugins()) {
      const std::string sha = c->section == "loss" && !loss_sha256.empty() ? loss_sha256 : c->library->sha256;
      plugin.bind(1, id).bind(2, c->section).bind(3, std::string_view(to_string(c->library->kind())));
      plugin.bind(4, c->plugin()).bind(5, c->library->descriptor->version).bind(6, c->library->file.string()).bind(7, sha);
      plugin.run();
    }
    db.exec(fmt::format("INSERT INTO metrics VALUES ({}, 'modes.modes', 20, {})", id, id));
  }

  std::vector<std::pair<std::string, std::string>> builds_of_run_2() const {
    std::vector<std::pair<std::string, std::string>> builds;
    for (const PluginChoice* c : exp.trials[1].config.plugins())
      builds.emplace_back(c->section, c->section == "loss" ? old_loss : c->library->sha256);
    return builds;
  }
};

TEST_F(FromSchemaFour, ReadOnlyTheRunsImplyWhichBuildsAreCurrent) {
  // Not migrated (reading never writes): the build of the latest run is current, so until a
  // gantry run says otherwise the old loss of run 2 is, and run 1 is the superseded one.
  Database db = open_results(path);
  EXPECT_FALSE(db.table_exists("plugin_builds"));
  EXPECT_EQ(superseded_runs(db, 1), std::set<int64_t>{1});
  EXPECT_EQ(superseded_runs(db, 0), std::set<int64_t>{1});
  EXPECT_EQ(superseded_runs(db, 2), std::set<int64_t>{});
}

TEST_F(FromSchemaFour, MigratingKeepsEveryRunAndItsIdentityFollowsItsBinaries) {
  ResultStore store(path);
  Database& db = store.db();
  EXPECT_EQ(text(db, "PRAGMA user_version"), std::to_string(schema::version));
  EXPECT_EQ(text(db, "PRAGMA application_id"), std::to_string(schema::application_id));
  // Run 1 ran today's binaries: it is the trial gantry makes now.
  EXPECT_EQ(text(db, "SELECT identity FROM runs WHERE id = 1"), exp.trials[0].identity);
  EXPECT_EQ(text(db, "SELECT config_identity FROM runs WHERE id = 1"), exp.trials[0].config_identity);
  // Run 2 has the same settings as trial 1 but another loss binary: another trial.
  EXPECT_EQ(text(db, "SELECT config_identity FROM runs WHERE id = 2"), exp.trials[1].config_identity);
  EXPECT_EQ(text(db, "SELECT identity FROM runs WHERE id = 2"), trial_identity(exp.trials[1].config_identity, builds_of_run_2()));
  EXPECT_NE(text(db, "SELECT identity FROM runs WHERE id = 2"), exp.trials[1].identity);
  // Without plugins rows the identity stays, recognisable as identity = config_identity.
  EXPECT_EQ(text(db, "SELECT identity || ' ' || config_identity FROM runs WHERE id = 3"),
            "no-plugins-identity no-plugins-identity");
  // plugin_builds starts from the runs: the later run's loss build is the current one.
  EXPECT_EQ(text(db, "SELECT COUNT(*) FROM plugin_builds WHERE name = 'nonsaturating'"), "2");
  EXPECT_EQ(text(db, "SELECT sha256 FROM current_plugin_builds WHERE kind = 'loss'"), old_loss);
  EXPECT_EQ(text(db, "SELECT group_concat(run_id) FROM superseded_runs"), "1");
  EXPECT_EQ(text(db, "PRAGMA integrity_check"), "ok");
}

TEST_F(FromSchemaFour, RunningAgainSkipsUnchangedBinariesAndRerunsTheRebuiltLoss) {
  ResultStore store(path);
  const RunSummary summary = run_experiment(exp, store, {}, log);
  const std::string loss_sha256 = exp.trials[1].config.loss.library->sha256;
  EXPECT_TRUE(log.str().starts_with(fmt::format(
      "1 of 2 trial(s) already done; 1 to run (--force reruns all)\n"
      "1 earlier run(s) used another build of loss 'nonsaturating' (now sha256 {}); their trials run again\n",
      loss_sha256.substr(0, 12))))
      << log.str();
  ASSERT_EQ(summary.runs.size(), 2u);
  EXPECT_TRUE(summary.runs[0].skipped);
  EXPECT_EQ(summary.runs[0].run_id, 1);
  EXPECT_FALSE(summary.runs[1].skipped);
  EXPECT_EQ(summary.runs[1].run_id, 4);  // a new row: run 2 stays, the result of its own binary
  EXPECT_EQ(summary.runs[1].status, RunStatus::completed) << summary.runs[1].error;
  Database& db = store.db();
  EXPECT_EQ(text(db, "SELECT COUNT(*) FROM runs"), "4");
  EXPECT_EQ(text(db, "SELECT config_identity = (SELECT config_identity FROM runs WHERE id = 2) FROM runs WHERE id = 4"), "1");

  // This gantry run made today's builds current: now run 2 is the superseded one.
  EXPECT_EQ(superseded_runs(db, 1), std::set<int64_t>{2});
  CompareOptions o{{"tiny"}, "modes.modes", {}, "final"};
  const Comparison current = compare_runs(db, o);
  ASSERT_EQ(current.groups.size(), 1u);
  EXPECT_EQ(current.groups[0].n, 3);  // runs 1, 3 and 4
  EXPECT_EQ(current.superseded, 1u);
  o.all_builds = true;
  const Comparison all = compare_runs(db, o);
  EXPECT_EQ(all.groups[0].n, 4);
  EXPECT_EQ(all.superseded, 1u);
  // The curves leave it out too: at step 20, the mean of runs 1 (1), 3 (3) and 4.
  double run_4 = 0;
  for (const auto& [key, value] : summary.runs[1].final_metrics)
    if (key == "modes.modes") run_4 = value;
  std::vector<std::string> by;
  const auto curves = group_curves(db, "tiny", "modes.modes", by);
  ASSERT_EQ(curves.size(), 1u);
  EXPECT_EQ(curves[0].steps.back(), 20);
  EXPECT_DOUBLE_EQ(curves[0].mean.back(), (1 + 3 + run_4) / 3);
  EXPECT_DOUBLE_EQ(group_curves(db, "tiny", "modes.modes", by, true)[0].mean.back(), (1 + 2 + 3 + run_4) / 4);
}

TEST(SupersededNote, SaysHowManyAndHow) {
  EXPECT_EQ(superseded_note(0, false), "");
  EXPECT_EQ(superseded_note(0, true), "");
  EXPECT_EQ(superseded_note(3, false), "3 run(s) of superseded plugin builds hidden (--all-builds shows them)");
  EXPECT_EQ(superseded_note(1, true),
            "1 run(s) of superseded plugin builds included (a later gantry run loaded other builds of their plugins)");
}

}  // namespace
}  // namespace gantry
