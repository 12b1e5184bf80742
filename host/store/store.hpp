#pragma once
#include "config/experiment.hpp"
#include "store/sqlite.hpp"
#include "train/events.hpp"

#include <gantry/error.hpp>
#include <gantry/metric.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gantry {

enum class RunStatus { queued, running, completed, failed, diverged, interrupted };
const char* to_string(RunStatus status);
RunStatus parse_run_status(std::string_view text);

/// A file that gantry must not use as its results database: another program's SQLite file, not a
/// database at all, or one of a later schema (exit code 2, like any other wrong --db).
class DatabaseError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

/// Opens an existing results database for reading only (Database::Access::read_only): creates
/// nothing, works on read-only storage, and throws ConfigError when there is no file at `path`
/// and DatabaseError when the file is not a gantry results database.
Database open_results(const std::filesystem::path& path);

/// The SQLite results database: schema, migrations and every write gantry makes.
class ResultStore {
 public:
  /// Opens or creates the database (and its folder), in WAL mode, at the current schema version.
  /// A file that is not a gantry database is refused with DatabaseError before anything is
  /// written to it.
  explicit ResultStore(const std::filesystem::path& path);

  Database& db() { return db_; }
  /// The database file (checkpoints live beside it).
  const std::filesystem::path& path() const { return path_; }
  int64_t upsert_experiment(const Experiment& exp);

  struct ExistingRun {
    int64_t id;
    RunStatus status;
  };
  std::optional<ExistingRun> find_run(int64_t experiment_id, const std::string& identity);

  /// Creates the run (or resets a previous attempt with the same identity) as 'running', with its
  /// params and provenance, in one transaction.
  int64_t start_run(int64_t experiment_id, const TrialConfig& trial, const std::string& identity, int threads);

  /// The outcome of claiming a trial: started here, finished already, or owned by a live process.
  struct Claim {
    enum class Outcome { started, finished, owned_elsewhere } outcome = Outcome::started;
    int64_t run_id = 0;
    RunStatus status = RunStatus::running;  ///< the existing status when not started
    int64_t owner_pid = 0;                  ///< who owns it, when owned elsewhere
    std::string owner_host;
    bool resumes = false;  ///< started: an interrupted run that continues from its checkpoints
  };
  /// Whether the process `pid` on `host` that recorded a run as running still lives.
  using OwnerAlive = bool (*)(int64_t pid, const std::string& host);
  /// Starts the trial's run unless, checked in the same write transaction (so two gantry
  /// processes never both start it), another live process is running it, or it ended in a
  /// way `rerun` does not cover (completed, or failed/diverged, as RunStatus flags). An interrupted
  /// run with checkpoints keeps its rows and resumes (unless rerun_completed, i.e. --force); any
  /// other run starts afresh and its earlier checkpoints' rows are deleted.
  Claim claim_run(int64_t experiment_id, const TrialConfig& trial, const std::string& identity, int threads,
                  bool rerun_completed, bool rerun_failed, OwnerAlive owner_alive);
  /// Records the build (file SHA-256) of every plugin the experiment's trials load as the current
  /// one of its kind and name: a gantry run that loads them has just started.
  void record_plugin_builds(const Experiment& exp);
  /// Runs of the experiment with the trial's settings and seed (its config identity) that used
  /// another build of one of its plugins: (section, run id) for each plugin whose build differs.
  std::vector<std::pair<std::string, int64_t>> runs_of_other_builds(int64_t experiment_id, const Trial& trial);
  /// The metric's keys with their direction; `primary_key` (empty: none, as for the losses) is
  /// marked as the one comparisons default to.
  void record_metric_keys(const std::string& metric, const std::vector<MetricKey>& keys,
                          const std::string& primary_key);
  /// Where the run's trial runs: a machine, and an MPI rank (-1: none, a local run).
  void record_place(int64_t run_id, const std::string& worker_host, int worker_rank);
  void finish_run(int64_t run_id, RunStatus status, const std::string& error, int64_t step, double wall_seconds);
  /// (key, value) at each key's last step.
  std::vector<std::pair<std::string, double>> final_metrics(int64_t run_id);

 private:
  void migrate();
  /// start_run's writes, inside the caller's transaction.
  int64_t write_run_start(int64_t experiment_id, const TrialConfig& trial, const std::string& identity, int threads);
  int64_t write_run_resume(int64_t run_id, const TrialConfig& trial, int threads);
  void mark_running(int64_t run_id, const TrialConfig& trial, int threads, bool from_step_0);
  void write_params_and_plugins(int64_t run_id, const TrialConfig& trial);
  Database db_;
  std::filesystem::path path_;
};

/// Buffers a run's metric points and writes them in one transaction per flush().
class RunWriter final : public EventSink {
 public:
  RunWriter(ResultStore& store, int64_t run_id);
  void metric(int64_t step, std::string_view key, double value) override;
  void artifact(int64_t step, std::string_view kind, std::string_view mime, std::string_view bytes) override;
  void note(std::string_view key, std::string_view value) override;
  /// Recorded with the metrics before it, in the next flush's transaction (`file` relative to
  /// the database's checkpoint folder).
  void checkpoint_file(int64_t step, std::string file, int64_t bytes, std::string sha256);
  void flush() override;

 private:
  struct Checkpoint {
    int64_t step;
    std::string file;
    int64_t bytes;
    std::string sha256;
  };
  std::vector<Checkpoint> checkpoints_;
  std::vector<std::pair<std::string, std::string>> notes_;
  ResultStore& store_;
  int64_t run_id_;
  struct Point {
    int64_t step;
    std::string key;
    double value;
  };
  std::vector<Point> pending_;
  struct Artifact {
    int64_t step;
    std::string kind, mime, bytes;
  };
  std::vector<Artifact> artifacts_;
  size_t artifact_bytes_ = 0;
};

}  // namespace gantry
