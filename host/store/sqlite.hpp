#pragma once
#include <gantry/params.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace gantry {

/// A thin RAII layer over sqlite3; errors throw gantry::Error with SQLite's message.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, int64_t v);
  Statement& bind(int index, double v);
  Statement& bind(int index, std::string_view v);
  Statement& bind_null(int index);
  Statement& bind_blob(int index, std::string_view bytes);
  /// Binds a parameter value with its natural SQLite type (lists and booleans as text).
  Statement& bind_value(int index, const ParamValue& v);
  /// Steps once; true while a row is available.
  bool step();
  /// Steps to completion and resets, keeping bindings for reuse.
  void run();
  void reset();
  int64_t column_int(int i) const;
  double column_double(int i) const;
  std::string column_text(int i) const;
  std::string column_blob(int i) const;
  bool column_is_null(int i) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  enum class Access { read_write, read_only, immutable };
  /// read_write opens or creates the file. read_only never creates the database or writes to it:
  /// it opens with mode=ro (immutable=1 when read-only storage leaves no way to create the WAL
  /// index) and installs read_only_authorizer, so only reads can run on the connection. immutable
  /// reads the file as it is on disk, ignoring any -wal file, with no locks and creating nothing
  /// beside it: for a file that no one is writing.
  explicit Database(const std::filesystem::path& path, Access access = Access::read_write);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql) { return Statement(db_, sql); }
  int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() { return db_; }
  /// Read-only commands never migrate, so they ask before reading tables of later schemas.
  bool table_exists(std::string_view name);
  /// Same for a column that a later schema added to an existing table.
  bool column_exists(std::string_view table, std::string_view column);
  /// SQLite's result code for reading the schema: SQLITE_OK, or why the file cannot be read
  /// (SQLITE_NOTADB for a file that is not a database). SQLite reads nothing before this.
  int check_readable();
  /// True when opened with immutable=1 (read-only storage): no locks, the WAL file is ignored.
  bool immutable() const { return immutable_; }

 private:
  sqlite3* db_ = nullptr;
  bool immutable_ = false;
};

/// The authorizer of every read-only connection: SELECT, reads, functions (but not
/// load_extension) and pragmas that only read. ATTACH, writes, schema changes and pragmas that set
/// something are denied before the statement runs ("not authorized").
int read_only_authorizer(void*, int action, const char* a, const char* b, const char*, const char*);

/// A URI filename for `path` with `query` ("mode=ro"), for sqlite3_open_v2 and ATTACH.
std::string sqlite_uri(const std::filesystem::path& path, std::string_view query);

/// BEGIN IMMEDIATE … COMMIT, rolled back when destroyed without commit().
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace gantry
