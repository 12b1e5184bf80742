#pragma once
#include "results/table.hpp"
#include "store/sqlite.hpp"

#include <filesystem>
#include <ostream>
#include <set>
#include <string>

namespace gantry {

/// Runs one SQL statement against the database opened read-only. Anything that would write or
/// change the connection (INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH, a PRAGMA that sets) is
/// refused before it runs, with ConfigError.
Table run_query(const std::filesystem::path& db, const std::string& sql);

/// Runs of the experiment (0: of every experiment) that used a superseded build of some plugin:
/// not the build that the latest `gantry run` loading that plugin used (schema::superseded_runs).
/// Read from the database alone, so it needs no plugin files. `runs`, `compare`, `report`, `plot`
/// and `status` leave these runs out unless --all-builds.
std::set<int64_t> superseded_runs(Database& db, int64_t experiment_id);
/// The line saying how many runs of superseded builds a command left out, or with `all_builds`
/// included ("" when none).
std::string superseded_note(size_t superseded, bool all_builds);

/// The experiment's metrics in long form — run_id, seed, status, every parameter as a column,
/// key, step, value — written as CSV or JSON. Returns the number of rows.
int64_t export_metrics(Database& db, const std::string& experiment, Format format, std::ostream& out);

}  // namespace gantry
