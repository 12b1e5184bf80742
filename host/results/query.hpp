#pragma once
#include "results/table.hpp"
#include "store/sqlite.hpp"

#include <filesystem>
#include <ostream>
#include <string>

namespace gantry {

/// Runs one SQL statement against the database opened read-only. Anything that would write or
/// change the connection (INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH, a PRAGMA that sets) is
/// refused before it runs, with ConfigError.
Table run_query(const std::filesystem::path& db, const std::string& sql);

/// The experiment's metrics in long form — run_id, seed, status, every parameter as a column,
/// key, step, value — written as CSV or JSON. Returns the number of rows.
int64_t export_metrics(Database& db, const std::string& experiment, Format format, std::ostream& out);

}  // namespace gantry
