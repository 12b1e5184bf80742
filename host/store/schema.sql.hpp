#pragma once
#include <cstdint>

// The results database, version 1. Everything a comparison needs is here; the parent process is
// the only writer. Times are UTC ISO-8601 text.
namespace gantry::schema {

inline constexpr int version = 9;

/// PRAGMA application_id of a gantry results database: "GNTR" in ASCII. A file with another id,
/// or with none and tables that are not gantry's, is not ours and is never written to.
inline constexpr uint32_t application_id = 0x474E5452;
/// Databases of versions 1 to 4 were written before the application id: they are recognised by
/// their experiments and runs tables, and get the id when migrated.
inline constexpr int last_version_without_application_id = 4;

inline constexpr const char* v1 = R"SQL(
CREATE TABLE experiments (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  file        TEXT,
  source      TEXT,            -- the TOML text as last run
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE runs (
  id             INTEGER PRIMARY KEY,
  experiment_id  INTEGER NOT NULL REFERENCES experiments(id),
  identity       TEXT NOT NULL,  -- SHA-256 of the resolved config and seed
  seed           INTEGER NOT NULL,
  status         TEXT NOT NULL CHECK (status IN
                   ('queued', 'running', 'completed', 'failed', 'diverged', 'interrupted')),
  error          TEXT,
  step           INTEGER NOT NULL DEFAULT 0,  -- last step reached
  steps          INTEGER NOT NULL,            -- steps asked for
  created_at     TEXT NOT NULL,
  started_at     TEXT,
  finished_at    TEXT,
  wall_seconds   REAL,
  host           TEXT,
  pid            INTEGER,
  threads        INTEGER,
  gantry_version TEXT,
  abi_version    INTEGER,
  compiler       TEXT,
  onednn_version TEXT,
  UNIQUE (experiment_id, identity)
);

-- One row per resolved leaf parameter ("loss.plugin", "optimizer.lr", ...), so GROUP BY works.
CREATE TABLE params (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key     TEXT NOT NULL,
  value,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE metrics (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key     TEXT NOT NULL,   -- "loss.d", "modes.high_quality", ...
  step    INTEGER NOT NULL,
  value   REAL,
  PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;

-- Which way is better for each metric key, as its plugin declares.
CREATE TABLE metric_keys (
  key        TEXT PRIMARY KEY,
  direction  TEXT NOT NULL CHECK (direction IN ('higher', 'lower')),
  doc        TEXT
);

-- Provenance: the exact plugin files a run used.
CREATE TABLE plugins (
  run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  section  TEXT NOT NULL,   -- "data", "loss", "metrics.modes"
  kind     TEXT NOT NULL,
  name     TEXT NOT NULL,
  version  TEXT NOT NULL,
  file     TEXT NOT NULL,
  sha256   TEXT NOT NULL,
  PRIMARY KEY (run_id, section)
) WITHOUT ROWID;

CREATE INDEX runs_by_experiment ON runs(experiment_id, status);
CREATE INDEX params_by_key ON params(key, value);

-- Each run's value of every metric at its last recorded step.
CREATE VIEW final_metrics AS
  SELECT m.run_id, m.key, m.step, m.value
  FROM metrics m
  WHERE m.step = (SELECT MAX(step) FROM metrics WHERE run_id = m.run_id AND key = m.key);

-- Runs with their experiment's name, one row each.
CREATE VIEW run_overview AS
  SELECT r.id AS run_id, e.name AS experiment, r.seed, r.status, r.error, r.step, r.steps,
         r.wall_seconds, r.started_at, r.finished_at, r.identity
  FROM runs r JOIN experiments e ON e.id = r.experiment_id;
)SQL";

// Version 2: views for the common questions, so sqlite3 and pandas users need no joins.
inline constexpr const char* v2_from_v1 = R"SQL(
-- Each run's parameters as one JSON object: {"loss.plugin": "hinge", "optimizer.lr": 0.001, ...}.
CREATE VIEW run_params AS
  SELECT run_id, json_group_object(key, value) AS params FROM params GROUP BY run_id;

-- Each run's final and best value of every metric (best by the metric's declared direction),
-- with the run's experiment, seed, status and parameters.
CREATE VIEW run_results AS
  SELECT r.id AS run_id, e.name AS experiment, r.seed, r.status, m.key,
         (SELECT value FROM metrics WHERE run_id = r.id AND key = m.key ORDER BY step DESC LIMIT 1) AS final,
         CASE WHEN k.direction = 'lower' THEN MIN(m.value) ELSE MAX(m.value) END AS best,
         MAX(m.step) AS last_step, p.params
  FROM runs r
  JOIN experiments e ON e.id = r.experiment_id
  JOIN metrics m ON m.run_id = r.id
  LEFT JOIN metric_keys k ON k.key = m.key
  LEFT JOIN run_params p ON p.run_id = r.id
  GROUP BY r.id, m.key;
)SQL";

// Version 3: pictures and other files made at evaluations (sample scatters and grids).
inline constexpr const char* v3_from_v2 = R"SQL(
CREATE TABLE artifacts (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind    TEXT NOT NULL,     -- "samples"
  step    INTEGER NOT NULL,
  mime    TEXT NOT NULL,     -- "image/png"
  data    BLOB NOT NULL,
  PRIMARY KEY (run_id, kind, step)
) WITHOUT ROWID;
)SQL";

// Version 4: how a run measured (e.g. which reference classifier an image metric used).
inline constexpr const char* v4_from_v3 = R"SQL(
CREATE TABLE run_notes (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key     TEXT NOT NULL,     -- "image_quality.classifier_sha256"
  value   TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
)SQL";

// Version 6: what comparisons default to. Each metric plugin's primary key (the one its plugin says
// to rank by), and per experiment, as last run, its swept parameters and its metrics in file order:
// `compare` and `report` group by the sweep and default to the first metric's primary key. NULL
// columns mean an experiment last run before version 6 (results/grouping.cpp falls back).
inline constexpr const char* v6_from_v5 = R"SQL(
ALTER TABLE metric_keys ADD COLUMN is_primary INTEGER NOT NULL DEFAULT 0;  -- 1: its plugin's primary key
ALTER TABLE experiments ADD COLUMN sweep_columns TEXT;  -- JSON array of swept params keys: ["loss.plugin", "optimizer.lr"]
ALTER TABLE experiments ADD COLUMN metrics TEXT;        -- JSON array of metric plugins in file order: ["modes", "disc_accuracy"]
)SQL";

// Version 5: a run's identity covers the binaries of its plugins (config/experiment.hpp,
// trial_identity); `config_identity` is the hash of its settings and seed alone, shared by the runs
// of one trial under different plugin builds. The migration recomputes stored identities in C++
// (store.cpp: SQLite has no SHA-256) and fills plugin_builds from the runs (plugin_builds_from_runs).
inline constexpr const char* v5_from_v4 = R"SQL(
ALTER TABLE runs ADD COLUMN config_identity TEXT;
CREATE INDEX runs_by_config ON runs(experiment_id, config_identity);

-- Every build (file SHA-256) of every plugin that a gantry run loaded. `used` grows with each
-- gantry run: per kind and name, the build with the largest is the current one.
CREATE TABLE plugin_builds (
  kind     TEXT NOT NULL,
  name     TEXT NOT NULL,
  sha256   TEXT NOT NULL,
  version  TEXT NOT NULL,
  file     TEXT NOT NULL,
  used     INTEGER NOT NULL,
  used_at  TEXT NOT NULL,
  PRIMARY KEY (kind, name, sha256)
) WITHOUT ROWID;
)SQL";

/// Per plugin kind and name, the build the latest gantry run loaded.
inline constexpr const char* current_plugin_builds = R"SQL(
  SELECT kind, name, sha256, version, file, used_at FROM plugin_builds b
  WHERE used = (SELECT MAX(used) FROM plugin_builds WHERE kind = b.kind AND name = b.name)
)SQL";

/// Runs that used another build of a plugin than its current one: a row per run and such plugin.
inline constexpr const char* superseded_runs = R"SQL(
  SELECT p.run_id, p.section, p.kind, p.name, p.sha256, c.sha256 AS current_sha256
  FROM plugins p JOIN current_plugin_builds c ON c.kind = p.kind AND c.name = p.name
  WHERE p.sha256 <> c.sha256
)SQL";

/// plugin_builds as the runs of a database before version 5 imply it: each build last used when
/// the latest run that loaded it started. The migration starts the table with it; reading an
/// older database without migrating it (read-only) uses it in its place.
inline constexpr const char* plugin_builds_from_runs = R"SQL(
  SELECT kind, name, sha256, version, file, ROW_NUMBER() OVER (ORDER BY used_at, kind, name, sha256) AS used, used_at
  FROM (SELECT p.kind, p.name, p.sha256, p.version, p.file, MAX(COALESCE(r.started_at, r.created_at)) AS used_at
        FROM plugins p JOIN runs r ON r.id = p.run_id GROUP BY p.kind, p.name, p.sha256)
)SQL";

// Version 7: the study's feature networks, so every run, worker and machine measures with the
// same weights (host/store/feature_networks.hpp). One per recipe: the first stored stays.
inline constexpr const char* feature_networks = R"SQL(
CREATE TABLE feature_networks (
  recipe         TEXT PRIMARY KEY,   -- ReferenceClassifier::recipe_hash: architecture, schedule, data
  sha256         TEXT NOT NULL,      -- of the weights
  test_accuracy  REAL,
  file           BLOB NOT NULL,      -- the classifier file as `gantry classifier export` writes it
  added_at       TEXT NOT NULL
);
)SQL";

// Version 8: a run's checkpoints. The files live beside the database, in the folder
// `<database>.checkpoints/` (host/store/checkpoints.hpp says why); a row names one by its path
// under that folder and records what it was when written, so a changed file is refused.
inline constexpr const char* v8_from_v7 = R"SQL(
CREATE TABLE checkpoints (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step        INTEGER NOT NULL,  -- the state at the end of this step
  file        TEXT NOT NULL,     -- "<run id>-<identity prefix>/step-000000001000.ckpt"
  bytes       INTEGER NOT NULL,
  sha256      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
)SQL";

// Version 9: where each run's trial ran. `host` and `pid` stay the process that claimed the run
// (and alone writes it: rank 0 under MPI), which is what liveness checks need; the trial itself
// may run on another machine, in another rank's worker.
inline constexpr const char* v9_from_v8 = R"SQL(
ALTER TABLE runs ADD COLUMN worker_host TEXT;     -- the machine whose worker ran the trial
ALTER TABLE runs ADD COLUMN worker_rank INTEGER;  -- its MPI rank; NULL for a local run
)SQL";

}  // namespace gantry::schema
