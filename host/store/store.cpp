#include "store/store.hpp"

#include "store/checkpoints.hpp"
#include "store/schema.sql.hpp"
#include "util/text.hpp"

#include <gantry/engine.hpp>
#include <gantry/error.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <initializer_list>
#include <map>
#include <set>
#include <oneapi/dnnl/dnnl.hpp>
#include <unistd.h>

namespace gantry {

namespace {
constexpr const char* now_sql = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
constexpr const char* status_names[] = {"queued", "running", "completed", "failed", "diverged", "interrupted"};

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return fmt::format("{}.{}.{}", v->major, v->minor, v->patch);
}
}  // namespace

const char* to_string(RunStatus status) { return status_names[static_cast<int>(status)]; }

RunStatus parse_run_status(std::string_view text) {
  for (int i = 0; i < 6; ++i)
    if (text == status_names[i]) return static_cast<RunStatus>(i);
  throw Error(fmt::format("unknown run status '{}'", text));
}

namespace {

enum class Origin { empty, gantry, gantry_before_application_id };

int64_t pragma(Database& db, std::string_view name) {
  auto st = db.prepare(fmt::format("PRAGMA {}", name));
  st.step();
  return st.column_int(0);
}

bool has_columns(Database& db, std::string_view table, std::initializer_list<std::string_view> columns) {
  // PRAGMA, not the pragma_table_info() function, which the read-only authorizer refuses.
  auto st = db.prepare(fmt::format("PRAGMA table_info({})", table));
  size_t found = 0;
  while (st.step())
    for (std::string_view c : columns) found += st.column_text(1) == c;
  return found == columns.size();
}

[[noreturn]] void refuse(Database& db, const std::filesystem::path& path, int64_t application_id) {
  std::vector<std::string> tables;
  auto st = db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  while (st.step()) tables.push_back(st.column_text(0));
  const size_t shown = std::min<size_t>(tables.size(), 8);
  const std::string more = tables.size() > shown ? fmt::format(" and {} more", tables.size() - shown) : "";
  throw DatabaseError(fmt::format(
      "{} is not a gantry results database ({}; application_id 0x{:08x})", path.string(),
      tables.empty() ? "it has no tables"
                     : fmt::format("it has tables: {}{}", fmt::join(tables.begin(), tables.begin() + shown, ", "), more),
      static_cast<uint32_t>(application_id)));
}

// Decides whether an existing file is ours before anything writes to it: see schema::application_id.
// Reading a WAL database normally creates -wal and -shm files beside it; without a -wal holding
// transactions, the file itself says everything, so it is read as it is and nothing is created
// beside a file that turns out to be someone else's.
Origin identify(const std::filesystem::path& path) {
  std::error_code ec;
  const bool live_wal = std::filesystem::file_size(path.string() + "-wal", ec) > 0 && !ec;
  Database db(path, live_wal ? Database::Access::read_only : Database::Access::immutable);
  const int rc = db.check_readable();
  if ((rc & 0xff) == SQLITE_NOTADB)
    throw DatabaseError(fmt::format("{} is not a gantry results database (file is not a database)", path.string()));
  if (rc != SQLITE_OK) throw DatabaseError(fmt::format("cannot read {}: {}", path.string(), sqlite3_errstr(rc)));
  const int64_t id = static_cast<uint32_t>(pragma(db, "application_id"));
  const int64_t version = pragma(db, "user_version");
  if (id == schema::application_id) {
    if (version > schema::version)
      throw DatabaseError(fmt::format("{}: database schema version {} is newer than this gantry supports ({})",
                                      path.string(), version, schema::version));
    return Origin::gantry;
  }
  if (id == 0 && version == 0 && !db.prepare("SELECT 1 FROM sqlite_master").step()) return Origin::empty;
  if (id == 0 && version >= 1 && version <= schema::last_version_without_application_id &&
      has_columns(db, "experiments", {"id", "name", "source"}) &&
      has_columns(db, "runs", {"id", "experiment_id", "identity", "seed", "status"}))
    return Origin::gantry_before_application_id;
  refuse(db, path, id);
}

// Creates the folder of a new database, and refuses an existing file that is not ours through a
// connection that only reads, so that nothing (not even WAL mode) is written to a foreign file.
std::filesystem::path checked_for_writing(const std::filesystem::path& path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw DatabaseError(fmt::format("{} is a folder, not a results database", path.string()));
  if (std::filesystem::file_size(path, ec) > 0 && !ec) identify(path);
  return path;
}

// Schema 5: identities cover the plugins' binaries. A stored run's new identity comes from its
// old one (which becomes its config identity) and its plugins rows, exactly as trial_identity
// makes a new trial's, so an upgraded database still recognises its runs while the binaries are
// the same. A run without plugins rows (none written by gantry lacks them) keeps its identity:
// identity = config_identity marks it, and no trial will match it again.
void migrate_to_v5(Database& db) {
  db.exec(schema::v5_from_v4);
  db.exec(fmt::format("CREATE VIEW current_plugin_builds AS {}", schema::current_plugin_builds));
  db.exec(fmt::format("CREATE VIEW superseded_runs AS {}", schema::superseded_runs));
  std::map<int64_t, std::vector<std::pair<std::string, std::string>>> builds;
  auto plugins = db.prepare("SELECT run_id, section, sha256 FROM plugins");
  while (plugins.step()) builds[plugins.column_int(0)].emplace_back(plugins.column_text(1), plugins.column_text(2));
  std::vector<std::pair<int64_t, std::string>> runs;
  auto read = db.prepare("SELECT id, identity FROM runs");
  while (read.step()) runs.emplace_back(read.column_int(0), read.column_text(1));
  auto update = db.prepare("UPDATE runs SET config_identity = identity, identity = ?2 WHERE id = ?1");
  for (const auto& [id, identity] : runs) {
    const auto it = builds.find(id);
    update.bind(1, id).bind(2, it == builds.end() ? identity : trial_identity(identity, it->second));
    update.run();
  }
  db.exec(fmt::format("INSERT INTO plugin_builds(kind, name, sha256, version, file, used, used_at) {}",
                      schema::plugin_builds_from_runs));
}

}  // namespace

Database open_results(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw ConfigError(fmt::format("no database at {} (run an experiment first, or pass --db)", path.string()));
  if (std::filesystem::is_directory(path, ec))
    throw DatabaseError(fmt::format("{} is a folder, not a results database", path.string()));
  if (identify(path) == Origin::empty)
    throw DatabaseError(fmt::format("{} holds no results yet (run an experiment first)", path.string()));
  return Database(path, Database::Access::read_only);
}

ResultStore::ResultStore(const std::filesystem::path& path) : db_(checked_for_writing(path)), path_(path) {
  db_.exec("PRAGMA journal_mode = WAL");
  db_.exec("PRAGMA synchronous = NORMAL");
  db_.exec("PRAGMA foreign_keys = ON");
  migrate();
}

void ResultStore::migrate() {
  const auto up_to_date = [&] {
    return pragma(db_, "user_version") == schema::version &&
           static_cast<uint32_t>(pragma(db_, "application_id")) == schema::application_id;
  };
  if (up_to_date()) return;
  Transaction tx(db_);
  // Read again under the write lock: another gantry may have migrated the file meanwhile.
  if (up_to_date()) return;
  const int64_t current = pragma(db_, "user_version");
  if (current > schema::version)
    throw DatabaseError(fmt::format("database schema version {} is newer than this gantry supports ({})", current,
                                    schema::version));
  if (current == 0) db_.exec(schema::v1);
  if (current < 2) db_.exec(schema::v2_from_v1);
  if (current < 3) db_.exec(schema::v3_from_v2);
  if (current < 4) db_.exec(schema::v4_from_v3);
  if (current < 5) migrate_to_v5(db_);
  if (current < 6) db_.exec(schema::v6_from_v5);
  if (current < 7) db_.exec(schema::feature_networks);
  if (current < 8) db_.exec(schema::v8_from_v7);
  if (current < 9) db_.exec(schema::v9_from_v8);
  // Later versions add their steps here: if (current < 10) db_.exec(schema::v10_from_v9); ...
  db_.exec(fmt::format("PRAGMA user_version = {}", schema::version));
  db_.exec(fmt::format("PRAGMA application_id = {}", schema::application_id));
  tx.commit();
}

int64_t ResultStore::upsert_experiment(const Experiment& exp) {
  // The sweep and metric order are the experiment's as last run, like its source.
  auto st = db_.prepare(fmt::format(
      "INSERT INTO experiments(name, file, source, created_at, updated_at, sweep_columns, metrics) "
      "VALUES (?1, ?2, ?3, {0}, {0}, ?4, ?5) "
      "ON CONFLICT(name) DO UPDATE SET file = ?2, source = ?3, updated_at = {0}, sweep_columns = ?4, metrics = ?5 "
      "RETURNING id",
      now_sql));
  st.bind(1, exp.name).bind(2, exp.file).bind(3, exp.source);
  st.bind(4, json_array(exp.sweep_columns)).bind(5, json_array(exp.metric_plugins));
  st.step();
  return st.column_int(0);
}

std::optional<ResultStore::ExistingRun> ResultStore::find_run(int64_t experiment_id, const std::string& identity) {
  auto st = db_.prepare("SELECT id, status FROM runs WHERE experiment_id = ?1 AND identity = ?2");
  st.bind(1, experiment_id).bind(2, identity);
  if (!st.step()) return std::nullopt;
  return ExistingRun{st.column_int(0), parse_run_status(st.column_text(1))};
}

int64_t ResultStore::start_run(int64_t experiment_id, const TrialConfig& trial, const std::string& identity,
                               int threads) {
  Transaction tx(db_);
  const int64_t run_id = write_run_start(experiment_id, trial, identity, threads);
  tx.commit();
  return run_id;
}

int64_t ResultStore::write_run_start(int64_t experiment_id, const TrialConfig& trial, const std::string& identity,
                                     int threads) {
  int64_t run_id;
  if (auto existing = find_run(experiment_id, identity)) {
    // A rerun replaces the earlier attempt's rows: one run per identity, never duplicated.
    run_id = existing->id;
    for (const char* table : {"metrics", "params", "plugins", "artifacts", "run_notes", "checkpoints"})
      db_.prepare(fmt::format("DELETE FROM {} WHERE run_id = ?1", table)).bind(1, run_id).run();
  } else {
    auto ins = db_.prepare(fmt::format(
        "INSERT INTO runs(experiment_id, identity, seed, status, steps, created_at) "
        "VALUES (?1, ?2, ?3, 'queued', ?4, {})", now_sql));
    ins.bind(1, experiment_id).bind(2, identity).bind(3, static_cast<int64_t>(trial.seed));
    ins.bind(4, trial.train.integer("steps"));
    ins.run();
    run_id = db_.last_insert_id();
  }
  mark_running(run_id, trial, threads, true);
  write_params_and_plugins(run_id, trial);
  return run_id;
}

// A resumed run keeps what its earlier attempts recorded (the trial rewinds what follows its
// checkpoint); its params are written again, since settings outside the identity (how often to
// checkpoint) may have changed.
int64_t ResultStore::write_run_resume(int64_t run_id, const TrialConfig& trial, int threads) {
  for (const char* table : {"params", "plugins"})
    db_.prepare(fmt::format("DELETE FROM {} WHERE run_id = ?1", table)).bind(1, run_id).run();
  mark_running(run_id, trial, threads, false);
  write_params_and_plugins(run_id, trial);
  return run_id;
}

void ResultStore::mark_running(int64_t run_id, const TrialConfig& trial, int threads, bool from_step_0) {
  auto upd = db_.prepare(fmt::format(
      "UPDATE runs SET status = 'running', error = NULL, step = {}, steps = ?2, started_at = {}, "
      "finished_at = NULL, wall_seconds = NULL, host = ?3, pid = ?4, threads = ?5, gantry_version = ?6, "
      "abi_version = ?7, compiler = ?8, onednn_version = ?9, config_identity = ?10 WHERE id = ?1",
      from_step_0 ? "0" : "step", now_sql));
  upd.bind(1, run_id).bind(2, trial.train.integer("steps")).bind(3, host_name());
  upd.bind(4, static_cast<int64_t>(getpid())).bind(5, static_cast<int64_t>(threads));
  upd.bind(6, version()).bind(7, static_cast<int64_t>(abi_version)).bind(8, compiler()).bind(9, onednn_version());
  upd.bind(10, config_identity(trial));
  upd.run();
}

void ResultStore::write_params_and_plugins(int64_t run_id, const TrialConfig& trial) {
  auto param = db_.prepare("INSERT INTO params(run_id, key, value) VALUES (?1, ?2, ?3)");
  for (const auto& [key, value] : config_leaves(trial)) {
    param.bind(1, run_id).bind(2, key).bind_value(3, value);
    param.run();
  }
  auto plugin = db_.prepare(
      "INSERT INTO plugins(run_id, section, kind, name, version, file, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  for (const PluginChoice* c : trial.plugins()) {
    const PluginLibrary& lib = *c->library;
    plugin.bind(1, run_id).bind(2, c->section).bind(3, std::string_view(to_string(lib.kind())));
    plugin.bind(4, lib.name()).bind(5, lib.descriptor->version).bind(6, lib.file.string()).bind(7, lib.sha256);
    plugin.run();
  }
}

ResultStore::Claim ResultStore::claim_run(int64_t experiment_id, const TrialConfig& trial,
                                         const std::string& identity, int threads, bool rerun_completed,
                                         bool rerun_failed, OwnerAlive owner_alive) {
  Transaction tx(db_);  // BEGIN IMMEDIATE: the check and the start are one step for every process
  Claim claim;
  auto st = db_.prepare("SELECT id, status, pid, host FROM runs WHERE experiment_id = ?1 AND identity = ?2");
  st.bind(1, experiment_id).bind(2, identity);
  if (st.step()) {
    claim.run_id = st.column_int(0);
    claim.status = parse_run_status(st.column_text(1));
    const bool active = claim.status == RunStatus::running || claim.status == RunStatus::queued;
    const bool badly = claim.status == RunStatus::failed || claim.status == RunStatus::diverged;
    if (active && st.column_int(2) != getpid() && owner_alive(st.column_int(2), st.column_text(3))) {
      claim.outcome = Claim::Outcome::owned_elsewhere;
      claim.owner_pid = st.column_int(2);
      claim.owner_host = st.column_text(3);
    } else if ((claim.status == RunStatus::completed && !rerun_completed) || (badly && !rerun_failed)) {
      claim.outcome = Claim::Outcome::finished;
    }
  }
  st.reset();
  if (claim.outcome != Claim::Outcome::started) return claim;
  // Interrupted, or left running by a process that is gone: either continues where it stopped.
  const bool stopped = claim.status == RunStatus::interrupted || claim.status == RunStatus::running ||
                       claim.status == RunStatus::queued;
  if (claim.run_id != 0 && stopped && !rerun_completed) {
    auto n = db_.prepare("SELECT COUNT(*) FROM checkpoints WHERE run_id = ?1");
    n.bind(1, claim.run_id).step();
    claim.resumes = n.column_int(0) > 0;
  }
  claim.run_id = claim.resumes ? write_run_resume(claim.run_id, trial, threads)
                               : write_run_start(experiment_id, trial, identity, threads);
  claim.status = RunStatus::running;
  tx.commit();
  return claim;
}

void ResultStore::record_plugin_builds(const Experiment& exp) {
  std::set<const PluginLibrary*> libraries;
  for (const Trial& t : exp.trials)
    for (const PluginChoice* c : t.config.plugins()) libraries.insert(c->library);
  Transaction tx(db_);
  auto next = db_.prepare("SELECT COALESCE(MAX(used), 0) + 1 FROM plugin_builds");
  next.step();
  const int64_t used = next.column_int(0);
  next.reset();
  auto st = db_.prepare(fmt::format(
      "INSERT INTO plugin_builds(kind, name, sha256, version, file, used, used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, {}) "
      "ON CONFLICT(kind, name, sha256) DO UPDATE SET version = ?4, file = ?5, used = ?6, used_at = excluded.used_at",
      now_sql));
  for (const PluginLibrary* lib : libraries) {
    st.bind(1, std::string_view(to_string(lib->kind()))).bind(2, lib->name()).bind(3, lib->sha256);
    st.bind(4, lib->descriptor->version).bind(5, lib->file.string()).bind(6, used);
    st.run();
  }
  tx.commit();
}

std::vector<std::pair<std::string, int64_t>> ResultStore::runs_of_other_builds(int64_t experiment_id,
                                                                               const Trial& trial) {
  auto st = db_.prepare(
      "SELECT p.section, p.sha256, r.id FROM runs r JOIN plugins p ON p.run_id = r.id "
      "WHERE r.experiment_id = ?1 AND r.config_identity = ?2 AND r.identity <> ?3");
  st.bind(1, experiment_id).bind(2, trial.config_identity).bind(3, trial.identity);
  std::vector<std::pair<std::string, int64_t>> out;
  const auto plugins = trial.config.plugins();
  while (st.step()) {
    const std::string section = st.column_text(0);
    const auto it = std::find_if(plugins.begin(), plugins.end(),
                                 [&](const PluginChoice* c) { return c->section == section; });
    if (it != plugins.end() && (*it)->library->sha256 != st.column_text(1)) out.emplace_back(section, st.column_int(2));
  }
  return out;
}

void ResultStore::record_metric_keys(const std::string& metric, const std::vector<MetricKey>& keys,
                                     const std::string& primary_key) {
  auto st = db_.prepare(
      "INSERT INTO metric_keys(key, direction, doc, is_primary) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT(key) DO UPDATE SET direction = ?2, doc = ?3, is_primary = ?4");
  for (const MetricKey& k : keys) {
    st.bind(1, fmt::format("{}.{}", metric, k.name));
    st.bind(2, std::string_view(k.direction == Direction::higher_is_better ? "higher" : "lower"));
    st.bind(3, k.doc).bind(4, static_cast<int64_t>(k.name == primary_key));
    st.run();
  }
}

void ResultStore::record_place(int64_t run_id, const std::string& worker_host, int worker_rank) {
  auto st = db_.prepare("UPDATE runs SET worker_host = ?2, worker_rank = ?3 WHERE id = ?1");
  st.bind(1, run_id).bind(2, worker_host);
  if (worker_rank >= 0) st.bind(3, static_cast<int64_t>(worker_rank));
  st.step();
}

void ResultStore::finish_run(int64_t run_id, RunStatus status, const std::string& error, int64_t step,
                             double wall_seconds) {
  auto st = db_.prepare(fmt::format(
      "UPDATE runs SET status = ?2, error = ?3, step = MAX(step, ?4), wall_seconds = ?5, finished_at = {} WHERE id = ?1",
      now_sql));
  st.bind(1, run_id).bind(2, std::string_view(to_string(status)));
  if (error.empty()) st.bind_null(3);
  else st.bind(3, error);
  st.bind(4, step).bind(5, wall_seconds);
  st.run();
}

std::vector<std::pair<std::string, double>> ResultStore::final_metrics(int64_t run_id) {
  auto st = db_.prepare("SELECT key, value FROM final_metrics WHERE run_id = ?1 ORDER BY key");
  st.bind(1, run_id);
  std::vector<std::pair<std::string, double>> out;
  // A NaN is stored as NULL; it reads back as NaN, not as 0.
  while (st.step())
    out.emplace_back(st.column_text(0), st.column_is_null(1) ? std::nan("") : st.column_double(1));
  return out;
}

RunWriter::RunWriter(ResultStore& store, int64_t run_id) : store_(store), run_id_(run_id) {}

// A trial flushes after every evaluation; one that never does (or floods) must not make the
// parent hold its points without bound.
constexpr size_t max_pending_points = 100000;
constexpr size_t max_pending_bytes = 64u << 20;

void RunWriter::metric(int64_t step, std::string_view key, double value) {
  pending_.push_back({step, std::string(key), value});
  if (pending_.size() >= max_pending_points) flush();
}

void RunWriter::artifact(int64_t step, std::string_view kind, std::string_view mime, std::string_view bytes) {
  artifact_bytes_ += bytes.size();
  artifacts_.push_back({step, std::string(kind), std::string(mime), std::string(bytes)});
  if (artifact_bytes_ >= max_pending_bytes) flush();
}

void RunWriter::note(std::string_view key, std::string_view value) {
  notes_.emplace_back(std::string(key), std::string(value));
}

void RunWriter::checkpoint_file(int64_t step, std::string file, int64_t bytes, std::string sha256) {
  checkpoints_.push_back({step, std::move(file), bytes, std::move(sha256)});
}

void RunWriter::flush() {
  if (pending_.empty() && artifacts_.empty() && notes_.empty() && checkpoints_.empty()) return;
  Database& db = store_.db();
  Transaction tx(db);
  auto note = db.prepare("INSERT OR REPLACE INTO run_notes(run_id, key, value) VALUES (?1, ?2, ?3)");
  for (const auto& [k, v] : notes_) {
    note.bind(1, run_id_).bind(2, k).bind(3, v);
    note.run();
  }
  notes_.clear();
  auto art = db.prepare("INSERT OR REPLACE INTO artifacts(run_id, kind, step, mime, data) VALUES (?1, ?2, ?3, ?4, ?5)");
  for (const Artifact& a : artifacts_) {
    art.bind(1, run_id_).bind(2, a.kind).bind(3, a.step).bind(4, a.mime).bind_blob(5, a.bytes);
    art.run();
  }
  artifacts_.clear();
  artifact_bytes_ = 0;
  auto st = db.prepare("INSERT OR REPLACE INTO metrics(run_id, key, step, value) VALUES (?1, ?2, ?3, ?4)");
  for (const Point& p : pending_) {
    st.bind(1, run_id_).bind(2, p.key).bind(3, p.step);
    // NaN is stored as NULL: SQLite has no NaN, and a diverged value has no meaningful number.
    if (std::isnan(p.value)) st.bind_null(4);
    else st.bind(4, p.value);
    st.run();
  }
  if (!pending_.empty()) {
    auto progress = db.prepare("UPDATE runs SET step = MAX(step, ?2) WHERE id = ?1");
    progress.bind(1, run_id_).bind(2, pending_.back().step).run();
  }
  for (const Checkpoint& c : checkpoints_) record_checkpoint(db, run_id_, c.step, c.file, c.bytes, c.sha256);
  tx.commit();
  pending_.clear();
  checkpoints_.clear();
}

}  // namespace gantry
