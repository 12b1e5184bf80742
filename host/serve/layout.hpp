#pragma once
// What every page of gantry serve shares: the shell (styles and script served by gantry itself),
// reading query parameters, and looking an experiment up by id.
#include "serve/pages.hpp"

#include <string>
#include <vector>

namespace gantry::serve {

/// A whole page: `title` (escaped here) in <title> and <h1>, `body` as given (already escaped).
std::string page_shell(const std::string& title, const std::string& body);

/// The parameter's first value, or `fallback` when absent.
std::string param(const Params& params, const std::string& key, const std::string& fallback = "");
/// Every value of a repeatable parameter, in order.
std::vector<std::string> param_all(const Params& params, const std::string& key);
/// A query string of `params` (values percent-encoded), "" when empty, else starting with '?'.
std::string query_string(const Params& params);

/// The experiment's name; HttpError 404 when there is no experiment with that id.
std::string experiment_name(Database& db, int64_t experiment);
/// A table as HTML rows (every cell escaped); numeric columns right-aligned.
std::string html_table(const Table& t, const std::string& attributes = "");

}  // namespace gantry::serve
