#include "store/stored_trial.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace gantry {

StoredTrial load_stored_trial(Database& db, const Registry& registry, int64_t run_id, const std::filesystem::path& db_path) {
  auto st = db.prepare(
      "SELECT e.name, e.source, COALESCE(e.file, ''), r.status, COALESCE(r.config_identity, r.identity) "
      "FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?1");
  st.bind(1, run_id);
  if (!st.step()) throw ConfigError(fmt::format("no run {} in {}", run_id, db_path.string()));
  StoredTrial out;
  out.run_id = run_id;
  out.experiment = st.column_text(0);
  out.status = st.column_text(3);
  if (st.column_is_null(1))
    throw ConfigError(fmt::format("run {}: experiment '{}' has no stored TOML in {}, so its networks cannot be rebuilt",
                                  run_id, out.experiment, db_path.string()));
  const std::string source = st.column_text(1), file = st.column_text(2), identity = st.column_text(4);
  out.parsed = parse_experiment(source, file.empty() ? out.experiment + ".toml" : file, registry);
  const auto& trials = out.parsed.trials;
  const auto it = std::find_if(trials.begin(), trials.end(), [&](const Trial& t) { return t.config_identity == identity; });
  if (it == trials.end())
    throw ConfigError(fmt::format("run {}: its settings are not among the trials of experiment '{}' as last run (the "
                                  "experiment was changed and run again since), so its networks cannot be rebuilt",
                                  run_id, out.experiment));
  out.trial = static_cast<size_t>(it - trials.begin());
  return out;
}

std::vector<int64_t> runs_named(Database& db, const std::string& run_or_experiment, const std::filesystem::path& db_path) {
  int64_t id = 0;
  const char* end = run_or_experiment.data() + run_or_experiment.size();
  if (auto [p, ec] = std::from_chars(run_or_experiment.data(), end, id); ec == std::errc() && p == end) {
    auto st = db.prepare("SELECT 1 FROM runs WHERE id = ?1");
    st.bind(1, id);
    if (!st.step()) throw ConfigError(fmt::format("no run {} in {}", id, db_path.string()));
    return {id};
  }
  auto st = db.prepare(
      "SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ?1 ORDER BY r.id");
  st.bind(1, run_or_experiment);
  std::vector<int64_t> runs;
  while (st.step()) runs.push_back(st.column_int(0));
  if (!runs.empty()) return runs;
  auto names = db.prepare("SELECT name FROM experiments ORDER BY name");
  std::vector<std::string> known;
  while (names.step()) known.push_back(names.column_text(0));
  throw ConfigError(fmt::format("no run or experiment '{}' in {} (experiments: {})", run_or_experiment, db_path.string(),
                                known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
}

}  // namespace gantry
