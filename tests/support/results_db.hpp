#pragma once
// A results database built by hand, for comparisons whose answers are known.
#include "store/store.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gantry::test {

class ResultsDb {
 public:
  explicit ResultsDb(const std::filesystem::path& path) : store_(path) {}
  Database& db() { return store_.db(); }

  /// `sweep` and `metrics` are SQL: JSON array literals as gantry records them ('["loss.plugin"]'),
  /// or NULL for an experiment last run before schema 6; `source` is its TOML (NULL: none).
  void experiment(int64_t id, const std::string& name, const std::string& sweep, const std::string& metrics,
                  const std::string& source = "NULL") {
    db().exec(fmt::format("INSERT INTO experiments(id, name, source, created_at, updated_at, sweep_columns, metrics) "
                          "VALUES ({}, '{}', {}, 'now', 'now', {}, {})",
                          id, name, source, sweep, metrics));
  }

  void metric_key(const std::string& key, const std::string& direction, bool primary) {
    db().exec(fmt::format("INSERT INTO metric_keys(key, direction, doc, is_primary) VALUES ('{}', '{}', '', {})", key,
                          direction, primary ? 1 : 0));
  }

  /// A run with its parameters (values as SQL literals: "'hinge'", "0.001") and, when completed,
  /// each metric at step 10 (and that value − 1 at step 0). Returns its id.
  int64_t run(int64_t experiment, int64_t seed, const std::string& status,
              const std::vector<std::pair<std::string, std::string>>& params,
              const std::vector<std::pair<std::string, double>>& values) {
    const int64_t id = next_run_++;
    db().exec(fmt::format("INSERT INTO runs(id, experiment_id, identity, seed, status, steps, created_at) "
                          "VALUES ({0}, {1}, 'id{0}', {2}, '{3}', 10, 'now')",
                          id, experiment, seed, status));
    for (const auto& [key, value] : params)
      db().exec(fmt::format("INSERT INTO params VALUES ({}, '{}', {})", id, key, value));
    for (const auto& [key, value] : values)
      db().exec(fmt::format("INSERT INTO metrics VALUES ({0}, '{1}', 0, {2}), ({0}, '{1}', 10, {3})", id, key,
                            value - 1, value));
    return id;
  }

 private:
  ResultStore store_;
  int64_t next_run_ = 1;
};

}  // namespace gantry::test
