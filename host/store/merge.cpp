#include "store/merge.hpp"

#include "store/checkpoints.hpp"
#include "store/schema.sql.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <stdlib.h>

namespace gantry {

namespace {

namespace fs = std::filesystem;

// The tables that hang off a run and travel with it, keyed so that joining two copies of one run
// keeps each row once. Checkpoints travel separately: their files move too.
constexpr const char* run_tables[] = {"params", "metrics", "plugins", "artifacts", "run_notes"};

std::vector<std::string> columns(Database& db, const std::string& table, std::initializer_list<const char*> leave_out) {
  std::vector<std::string> out;
  auto st = db.prepare(fmt::format("PRAGMA main.table_info({})", table));
  while (st.step()) {
    const std::string name = st.column_text(1);
    if (std::find(leave_out.begin(), leave_out.end(), name) == leave_out.end()) out.push_back(name);
  }
  return out;
}

std::string joined(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ", ")); }

int64_t user_version(Database& db) {
  auto st = db.prepare("PRAGMA user_version");
  st.step();
  return st.column_int(0);
}

// An input as merging reads it: the file itself, or, for one of an older schema, a migrated copy
// in a temporary folder (an input is never written, not even migrated).
class ReadableInput {
 public:
  explicit ReadableInput(const fs::path& file) : file_(file) {
    Database db = open_results(file);
    if (user_version(db) == schema::version) return;
    std::string folder = (fs::temp_directory_path() / "gantry-merge-XXXXXX").string();
    if (::mkdtemp(folder.data()) == nullptr) throw Error(fmt::format("cannot make a temporary folder to migrate {}", file.string()));
    temp_ = folder;
    copy(db, temp_ / "input.db");
    ResultStore migrated(temp_ / "input.db");
  }
  ~ReadableInput() {
    std::error_code ec;
    if (!temp_.empty()) fs::remove_all(temp_, ec);
  }
  ReadableInput(const ReadableInput&) = delete;
  ReadableInput& operator=(const ReadableInput&) = delete;
  fs::path readable() const { return temp_.empty() ? file_ : temp_ / "input.db"; }

 private:
  static void copy(Database& from, const fs::path& to) {
    Database dest(to);
    sqlite3_backup* b = sqlite3_backup_init(dest.handle(), "main", from.handle(), "main");
    const int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) throw Error(fmt::format("cannot copy {}: {}", to.string(), sqlite3_errmsg(dest.handle())));
  }
  fs::path file_;
  fs::path temp_;
};

// ATTACH … AS src for the life of one input's merge, read-only.
class Attached {
 public:
  Attached(Database& db, const fs::path& file) : db_(db) {
    auto st = db_.prepare("ATTACH DATABASE ?1 AS src");
    st.bind(1, sqlite_uri(fs::absolute(file), "mode=ro"));
    st.run();
  }
  ~Attached() {
    try {
      db_.exec("DETACH DATABASE src");
    } catch (...) {
      // Closing the connection detaches it anyway.
    }
  }
  Attached(const Attached&) = delete;
  Attached& operator=(const Attached&) = delete;

 private:
  Database& db_;
};

// How far a run got, to choose between two runs of one identity: an outcome beats an attempt.
int finish_rank(const std::string& status) {
  if (status == "completed") return 4;
  if (status == "failed" || status == "diverged") return 3;
  if (status == "interrupted") return 2;
  return status == "running" ? 1 : 0;
}

struct RunRow {
  int64_t id = 0;
  std::string status;
  int64_t step = 0;
  std::string finished_at;
  bool ahead_of(const RunRow& other) const {
    if (finish_rank(status) != finish_rank(other.status)) return finish_rank(status) > finish_rank(other.status);
    if (step != other.step) return step > other.step;
    return finished_at > other.finished_at;
  }
};

struct SourceRun : RunRow {
  int64_t experiment_id = 0;
  std::string experiment, identity, host;
  int64_t seed = 0, pid = 0;
};

class InputMerger {
 public:
  InputMerger(ResultStore& out, const fs::path& file, MergedInput& stats, MergeReport& report)
      : db_(out.db()), out_(out), file_(file), stats_(stats), report_(report) {}

  // Everything inside the caller's transaction; files of replaced runs are deleted after it commits.
  void merge() {
    experiments();
    metric_keys();
    plugin_builds();
    feature_networks();
    for (const SourceRun& run : source_runs()) merge_run(run);
  }
  /// The checkpoint folders of replaced runs, but for one a new run took over with its id.
  std::vector<fs::path> stale_folders() const {
    std::vector<fs::path> out;
    for (const fs::path& f : stale_folders_)
      if (std::find(copied_folders_.begin(), copied_folders_.end(), f) == copied_folders_.end()) out.push_back(f);
    return out;
  }

 private:
  std::string where() const { return file_.string(); }

  void experiments() {
    auto src = db_.prepare("SELECT id, name, COALESCE(source, ''), updated_at FROM src.experiments ORDER BY id");
    auto mine = db_.prepare("SELECT id, COALESCE(source, ''), updated_at FROM main.experiments WHERE name = ?1");
    const std::string cols = joined(columns(db_, "experiments", {"id"}));
    auto insert = db_.prepare(fmt::format("INSERT INTO main.experiments({0}) SELECT {0} FROM src.experiments WHERE id = ?1", cols));
    // The file, sweep and metric order as last run, like a gantry run's upsert_experiment.
    auto update = db_.prepare(
        "UPDATE main.experiments SET (file, source, updated_at, sweep_columns, metrics) = "
        "(SELECT file, source, updated_at, sweep_columns, metrics FROM src.experiments WHERE id = ?2) WHERE id = ?1");
    while (src.step()) {
      const int64_t id = src.column_int(0);
      const std::string name = src.column_text(1);
      mine.reset();
      mine.bind(1, name);
      if (!mine.step()) {
        insert.bind(1, id).run();
        experiment_ids_[id] = db_.last_insert_id();
        ++stats_.experiments_added;
        continue;
      }
      experiment_ids_[id] = mine.column_int(0);
      const bool newer = src.column_text(3) > mine.column_text(2);
      if (src.column_text(2) != mine.column_text(1))
        report_.warnings.push_back(fmt::format(
            "experiment '{}': its TOML differs between {} and {}; kept the one run last ({}) as its source", name,
            where(), out_.path().string(), newer ? where() : out_.path().string()));
      if (newer) update.bind(1, experiment_ids_[id]).bind(2, id).run();
    }
  }

  void metric_keys() {
    auto differ = db_.prepare(
        "SELECT s.key, m.direction, s.direction FROM src.metric_keys s JOIN main.metric_keys m ON m.key = s.key "
        "WHERE m.direction <> s.direction ORDER BY s.key");
    while (differ.step())
      report_.conflicts.push_back(fmt::format("metric '{}': {} is better in {}, {} in {}; kept {}", differ.column_text(0),
                                              differ.column_text(1), out_.path().string(), differ.column_text(2),
                                              where(), out_.path().string()));
    const std::string cols = joined(columns(db_, "metric_keys", {}));
    db_.exec(fmt::format("INSERT OR IGNORE INTO main.metric_keys({0}) SELECT {0} FROM src.metric_keys", cols));
  }

  // The current build of a plugin is the one used last: the union of both histories, renumbered
  // by when each build was last used, keeps that true across machines.
  void plugin_builds() {
    db_.exec(
        "INSERT INTO main.plugin_builds(kind, name, sha256, version, file, used, used_at) "
        "SELECT kind, name, sha256, version, file, used, used_at FROM src.plugin_builds WHERE true "
        "ON CONFLICT(kind, name, sha256) DO UPDATE SET used_at = MAX(used_at, excluded.used_at)");
    db_.exec(
        "WITH ordered AS (SELECT kind, name, sha256, ROW_NUMBER() OVER (ORDER BY used_at, used, kind, name, sha256) AS n "
        "FROM main.plugin_builds) "
        "UPDATE main.plugin_builds SET used = (SELECT n FROM ordered o WHERE o.kind = main.plugin_builds.kind "
        "AND o.name = main.plugin_builds.name AND o.sha256 = main.plugin_builds.sha256)");
  }

  void feature_networks() {
    auto differ = db_.prepare(
        "SELECT s.recipe, m.sha256, s.sha256 FROM src.feature_networks s JOIN main.feature_networks m "
        "ON m.recipe = s.recipe WHERE m.sha256 <> s.sha256");
    while (differ.step())
      report_.conflicts.push_back(fmt::format(
          "feature network {}: weights {} in {}, {} in {}; kept {}'s (the runs of {} measured with other weights)",
          differ.column_text(0).substr(0, 16), differ.column_text(1).substr(0, 16), out_.path().string(),
          differ.column_text(2).substr(0, 16), where(), out_.path().string(), where()));
    const std::string cols = joined(columns(db_, "feature_networks", {}));
    db_.exec(fmt::format("INSERT OR IGNORE INTO main.feature_networks({0}) SELECT {0} FROM src.feature_networks", cols));
  }

  std::vector<SourceRun> source_runs() {
    auto st = db_.prepare(
        "SELECT r.id, r.status, r.step, COALESCE(r.finished_at, ''), r.experiment_id, e.name, r.identity, "
        "COALESCE(r.host, ''), r.seed, COALESCE(r.pid, 0) FROM src.runs r JOIN src.experiments e ON e.id = r.experiment_id "
        "ORDER BY r.id");
    std::vector<SourceRun> out;
    while (st.step()) {
      SourceRun r;
      r.id = st.column_int(0), r.status = st.column_text(1), r.step = st.column_int(2), r.finished_at = st.column_text(3);
      r.experiment_id = st.column_int(4), r.experiment = st.column_text(5), r.identity = st.column_text(6);
      r.host = st.column_text(7), r.seed = st.column_int(8), r.pid = st.column_int(9);
      out.push_back(std::move(r));
    }
    return out;
  }

  std::optional<RunRow> existing(int64_t experiment_id, const std::string& identity) {
    auto st = db_.prepare(
        "SELECT id, status, step, COALESCE(finished_at, '') FROM main.runs WHERE experiment_id = ?1 AND identity = ?2");
    st.bind(1, experiment_id).bind(2, identity);
    if (!st.step()) return std::nullopt;
    return RunRow{st.column_int(0), st.column_text(1), st.column_int(2), st.column_text(3)};
  }

  void merge_run(const SourceRun& run) {
    const int64_t experiment_id = experiment_ids_.at(run.experiment_id);
    const std::optional<RunRow> mine = existing(experiment_id, run.identity);
    if (mine && mine->status == "completed" && run.status == "completed") {
      join_completed(run, mine->id);
      ++stats_.runs_kept;
      return;
    }
    if (mine && !run.ahead_of(*mine)) {
      ++stats_.runs_kept;
      return;
    }
    if (mine) {
      forget(*mine, run.identity);
      ++stats_.runs_replaced;
    } else {
      ++stats_.runs_added;
    }
    const int64_t id = copy_run(run, experiment_id);
    if (run.status == "running" || run.status == "queued") mark_interrupted(run, id);
    copy_checkpoints(run, id);
  }

  int64_t copy_run(const SourceRun& run, int64_t experiment_id) {
    const std::string cols = joined(columns(db_, "runs", {"id", "experiment_id"}));
    auto insert = db_.prepare(
        fmt::format("INSERT INTO main.runs(experiment_id, {0}) SELECT ?1, {0} FROM src.runs WHERE id = ?2", cols));
    insert.bind(1, experiment_id).bind(2, run.id).run();
    const int64_t id = db_.last_insert_id();
    copy_rows(run.id, id);
    return id;
  }

  // INSERT OR IGNORE: joining a run to a copy of itself keeps each (key, step) once.
  void copy_rows(int64_t from, int64_t to) {
    for (const char* table : run_tables) {
      const std::string cols = joined(columns(db_, table, {"run_id"}));
      auto st = db_.prepare(fmt::format(
          "INSERT OR IGNORE INTO main.{0}(run_id, {1}) SELECT ?1, {1} FROM src.{0} WHERE run_id = ?2", table, cols));
      st.bind(1, to).bind(2, from).run();
    }
  }

  // A run that was running when its database was copied is not running in this one: no process
  // here owns it, and a remote owner would be assumed alive forever.
  void mark_interrupted(const SourceRun& run, int64_t id) {
    auto st = db_.prepare("UPDATE main.runs SET status = 'interrupted', error = ?2, pid = NULL WHERE id = ?1");
    st.bind(1, id).bind(2, fmt::format("interrupted: it was {} on {} (pid {}) in {} when merged; the next 'gantry run' "
                                        "reruns it", run.status, run.host, run.pid, where()));
    st.run();
    ++stats_.runs_unfinished;
  }

  // Two completed runs of one identity are one trial run twice: every metric, picture and note
  // of either is kept, and values that differ (a nondeterministic build, other thread counts)
  // are reported, the output's kept.
  void join_completed(const SourceRun& run, int64_t mine) {
    auto metrics = db_.prepare(
        "SELECT s.key, s.step, m.value, s.value FROM src.metrics s JOIN main.metrics m "
        "ON m.run_id = ?1 AND m.key = s.key AND m.step = s.step WHERE s.run_id = ?2 AND m.value IS NOT s.value "
        "ORDER BY s.step, s.key");
    metrics.bind(1, mine).bind(2, run.id);
    int differing = 0;
    std::string first;
    while (metrics.step())
      if (differing++ == 0)
        first = fmt::format("{} at step {}: {:.6g} here, {:.6g} there", metrics.column_text(0), metrics.column_int(1),
                            metrics.column_double(2), metrics.column_double(3));
    auto notes = db_.prepare(
        "SELECT s.key FROM src.run_notes s JOIN main.run_notes m ON m.run_id = ?1 AND m.key = s.key "
        "WHERE s.run_id = ?2 AND m.value <> s.value ORDER BY s.key");
    notes.bind(1, mine).bind(2, run.id);
    std::vector<std::string> note_keys;
    while (notes.step()) note_keys.push_back(notes.column_text(0));
    if (differing > 0 || !note_keys.empty())
      report_.conflicts.push_back(fmt::format(
          "experiment '{}' run {} (seed {}): completed in both, {} metric value(s){} differ{}; kept {}'s", run.experiment,
          mine, run.seed, differing, note_keys.empty() ? "" : fmt::format(" and notes {}", fmt::join(note_keys, ", ")),
          first.empty() ? "" : " (first: " + first + ")", out_.path().string()));
    copy_rows(run.id, mine);
  }

  // The output's less finished run of the identity gives way; its checkpoint files go once the
  // transaction that forgets it commits.
  void forget(const RunRow& mine, const std::string& identity) {
    stale_folders_.push_back(checkpoint_root(out_.path()) / run_checkpoint_folder(mine.id, identity));
    auto st = db_.prepare("DELETE FROM main.runs WHERE id = ?1");
    st.bind(1, mine.id).run();
  }

  void copy_checkpoints(const SourceRun& run, int64_t id) {
    auto st = db_.prepare("SELECT step, file, bytes, sha256 FROM src.checkpoints WHERE run_id = ?1 ORDER BY step");
    st.bind(1, run.id);
    const fs::path folder = run_checkpoint_folder(id, run.identity);
    copied_folders_.push_back(checkpoint_root(out_.path()) / folder);
    while (st.step()) {
      const fs::path from = checkpoint_root(file_) / st.column_text(1);
      const fs::path to = folder / fs::path(st.column_text(1)).filename();
      std::error_code ec;
      if (fs::file_size(from, ec) != static_cast<uintmax_t>(st.column_int(2)) || ec) {
        report_.warnings.push_back(fmt::format("{}: checkpoint {} of run {} is missing or changed; not carried over",
                                               where(), from.string(), run.id));
        continue;
      }
      fs::create_directories(checkpoint_root(out_.path()) / folder);
      fs::copy_file(from, checkpoint_root(out_.path()) / to, fs::copy_options::overwrite_existing);
      record_checkpoint(db_, id, st.column_int(0), to.string(), st.column_int(2), st.column_text(3));
      ++stats_.checkpoints;
    }
  }

  Database& db_;
  ResultStore& out_;
  const fs::path& file_;
  MergedInput& stats_;
  MergeReport& report_;
  std::map<int64_t, int64_t> experiment_ids_;  // input's id → output's
  std::vector<fs::path> stale_folders_, copied_folders_;
};

void check_inputs(const fs::path& out, const std::vector<fs::path>& inputs) {
  if (inputs.empty()) throw ConfigError("nothing to merge: name one or more results databases");
  for (const fs::path& in : inputs) {
    std::error_code ec;
    if (fs::equivalent(in, out, ec))
      throw ConfigError(fmt::format("{} is the output database; merge the others into it", in.string()));
    if (!fs::exists(in, ec)) throw ConfigError(fmt::format("no database at {}: nothing merged", in.string()));
    open_results(in);
  }
}

}  // namespace

MergeReport merge_databases(const fs::path& out, const std::vector<fs::path>& inputs) {
  check_inputs(out, inputs);
  ResultStore store(out);
  MergeReport report;
  for (const fs::path& in : inputs) {
    MergedInput stats{.file = in};
    const ReadableInput readable(in);
    const Attached attached(store.db(), readable.readable());
    InputMerger merger(store, in, stats, report);
    {
      Transaction tx(store.db());
      merger.merge();
      tx.commit();
    }
    for (const fs::path& folder : merger.stale_folders()) {
      std::error_code ec;
      fs::remove_all(folder, ec);
    }
    report.inputs.push_back(stats);
  }
  return report;
}

}  // namespace gantry
