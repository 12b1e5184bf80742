#include "store/checkpoints.hpp"

#include <fmt/format.h>

namespace gantry {

std::filesystem::path checkpoint_root(const std::filesystem::path& database) {
  return std::filesystem::path(database.string() + ".checkpoints");
}

std::string run_checkpoint_folder(int64_t run_id, const std::string& identity) {
  return fmt::format("{}-{}", run_id, identity.substr(0, 16));
}

std::vector<CheckpointRow> run_checkpoints(Database& db, int64_t run_id) {
  auto st = db.prepare("SELECT step, file, bytes, sha256, created_at FROM checkpoints WHERE run_id = ?1 ORDER BY step DESC");
  st.bind(1, run_id);
  std::vector<CheckpointRow> out;
  while (st.step())
    out.push_back({st.column_int(0), st.column_text(1), st.column_int(2), st.column_text(3), st.column_text(4)});
  return out;
}

std::vector<CheckpointRef> resume_candidates(ResultStore& store, int64_t run_id) {
  std::vector<CheckpointRef> out;
  const auto root = checkpoint_root(store.path());
  for (const CheckpointRow& row : run_checkpoints(store.db(), run_id)) out.push_back({row.step, root / row.file, row.sha256});
  return out;
}

void record_checkpoint(Database& db, int64_t run_id, int64_t step, const std::string& file, int64_t bytes,
                       const std::string& sha256) {
  auto st = db.prepare(
      "INSERT OR REPLACE INTO checkpoints(run_id, step, file, bytes, sha256, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
  st.bind(1, run_id).bind(2, step).bind(3, file).bind(4, bytes).bind(5, sha256);
  st.run();
}

namespace {
// Deletes the rows chosen by `where` (?1 = run, ?2 = a step) and returns their files.
std::vector<std::filesystem::path> forget(ResultStore& store, int64_t run_id, const std::string& where, int64_t step) {
  std::vector<std::filesystem::path> files;
  auto st = store.db().prepare(fmt::format("DELETE FROM checkpoints WHERE run_id = ?1 AND {} RETURNING file", where));
  st.bind(1, run_id).bind(2, step);
  while (st.step()) files.push_back(checkpoint_root(store.path()) / st.column_text(0));
  return files;
}

void remove_files(const std::vector<std::filesystem::path>& files) {
  std::error_code ec;  // a file already gone is what we want
  for (const auto& f : files) std::filesystem::remove(f, ec);
}
}  // namespace

void prune_checkpoints(ResultStore& store, int64_t run_id, int64_t keep) {
  if (keep <= 0) return;
  Transaction tx(store.db());
  // ?2 = keep: the newest `keep` before the final step stay, and the final one.
  auto files = forget(store, run_id,
                      "step <> (SELECT steps FROM runs WHERE id = ?1) AND step NOT IN (SELECT step FROM checkpoints "
                      "WHERE run_id = ?1 AND step <> (SELECT steps FROM runs WHERE id = ?1) ORDER BY step DESC LIMIT ?2)",
                      keep);
  tx.commit();
  remove_files(files);
}

void rewind_run(ResultStore& store, int64_t run_id, int64_t step, const std::string& note) {
  Database& db = store.db();
  Transaction tx(db);
  for (const char* table : {"metrics", "artifacts"})
    db.prepare(fmt::format("DELETE FROM {} WHERE run_id = ?1 AND step > ?2", table)).bind(1, run_id).bind(2, step).run();
  const auto files = forget(store, run_id, "step > ?2", step);
  db.prepare("UPDATE runs SET step = ?2 WHERE id = ?1").bind(1, run_id).bind(2, step).run();
  auto count = db.prepare("SELECT COUNT(*) FROM run_notes WHERE run_id = ?1 AND key LIKE 'checkpoint.resume.%'");
  count.bind(1, run_id);
  count.step();
  const int64_t n = count.column_int(0) + 1;
  count.reset();
  db.prepare("INSERT OR REPLACE INTO run_notes(run_id, key, value) VALUES (?1, ?2, ?3)")
      .bind(1, run_id)
      .bind(2, fmt::format("checkpoint.resume.{}", n))
      .bind(3, note)
      .run();
  tx.commit();
  remove_files(files);
}

}  // namespace gantry
