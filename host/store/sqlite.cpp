#include "store/sqlite.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <string>

namespace gantry {

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
    throw Error(fmt::format("sqlite: {} (in: {})", sqlite3_errmsg(db_), sql));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}
Statement& Statement::bind(int index, double v) {
  sqlite3_bind_double(stmt_, index, v);
  return *this;
}
Statement& Statement::bind(int index, std::string_view v) {
  sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
std::string Statement::column_blob(int i) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
}
Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}
Statement& Statement::bind_value(int index, const ParamValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return bind(index, *i);
  if (auto* d = std::get_if<double>(&v)) return bind(index, *d);
  return bind(index, std::string_view(to_string(v)));
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw Error(fmt::format("sqlite: {}", sqlite3_errmsg(db_)));
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() { sqlite3_reset(stmt_); }
int64_t Statement::column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
double Statement::column_double(int i) const { return sqlite3_column_double(stmt_, i); }
bool Statement::column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
std::string Statement::column_text(int i) const {
  const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  return t ? std::string(t) : std::string();
}

// '%', '?' and '#' in the path would read as URI syntax, so they are escaped; an absolute path gets
// an empty authority.
std::string sqlite_uri(const std::filesystem::path& path, std::string_view query) {
  const std::string p = path.string();
  std::string out = p.starts_with('/') ? "file://" : "file:";
  for (const char c : p) {
    if (c == '%' || c == '?' || c == '#') out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    else out += c;
  }
  return fmt::format("{}?{}", out, query);
}

namespace {

sqlite3* open(const std::string& name, int flags, const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(name.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw Error(fmt::format("cannot open database {}: {}", path.string(), msg));
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

// Pragmas that take an argument and still only read.
bool reading_pragma(std::string_view name) {
  for (const char* p : {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
                        "integrity_check", "quick_check"})
    if (name == p) return true;
  return false;
}

}  // namespace

int read_only_authorizer(void*, int action, const char* a, const char* b, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      // Disabled in the library already; refused here too, so no setting can turn it back on.
      return b != nullptr && std::string_view(b) == "load_extension" ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_PRAGMA:
      return b == nullptr || (a != nullptr && reading_pragma(a)) ? SQLITE_OK : SQLITE_DENY;
    default:
      return SQLITE_DENY;
  }
}

Database::Database(const std::filesystem::path& path, Access access) {
  if (access == Access::read_write) {
    // SQLITE_OPEN_URI only so that ATTACH can be given a URI (mode=ro): a plain path, as here, is
    // never read as one.
    db_ = open(path.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, path);
    return;
  }
  immutable_ = access == Access::immutable;
  db_ = open(sqlite_uri(path, immutable_ ? "immutable=1" : "mode=ro"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path);
  // A WAL database on read-only storage cannot create its -shm file, and mode=ro then fails at the
  // first read; immutable=1 reads the file as it is, without locks or WAL index.
  const int rc = immutable_ ? SQLITE_OK : check_readable() & 0xff;
  if (rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY) {
    sqlite3_close(db_);
    db_ = nullptr;
    db_ = open(sqlite_uri(path, "immutable=1"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path);
    immutable_ = true;
  }
  // Nothing may make the schema writable. (trusted_schema stays on: gantry's own run_params view
  // calls json_group_object, which SQLite 3.40 counts as unsafe; the authorizer, which also sees
  // the functions that views call, refuses load_extension.)
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_set_authorizer(db_, read_only_authorizer, nullptr);
}

int Database::check_readable() {
  return sqlite3_exec(db_, "SELECT COUNT(*) FROM sqlite_master", nullptr, nullptr, nullptr);
}

Database::~Database() { sqlite3_close(db_); }

bool Database::table_exists(std::string_view name) {
  auto st = prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
  st.bind(1, std::string(name));
  return st.step();
}

bool Database::column_exists(std::string_view table, std::string_view column) {
  // PRAGMA, not the pragma_table_info() function, which the read-only authorizer refuses.
  auto st = prepare(fmt::format("PRAGMA table_info({})", table));
  while (st.step())
    if (st.column_text(1) == column) return true;
  return false;
}

void Database::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error(fmt::format("sqlite: {}", msg));
  }
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // Nothing more can be done while unwinding; SQLite rolls back on close anyway.
    }
  }
}
void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace gantry
