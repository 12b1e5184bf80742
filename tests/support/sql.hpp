#pragma once
// One-value queries for tests that read a results database.
#include "store/sqlite.hpp"

#include <cstdint>
#include <string>

namespace gantry::test {

/// The first column of the first row as an integer (0 when there is no row).
inline int64_t count(Database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  st.step();
  return st.column_int(0);
}

/// The first column of the first row as text; "(no row)" when there is none.
inline std::string text(Database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  return st.step() ? st.column_text(0) : "(no row)";
}

}  // namespace gantry::test
