#pragma once
// The pages of gantry serve, rendered from a read-only connection. Every value from the database
// is escaped (html_escape in HTML and SVG, json_string in JSON), so names and errors holding
// markup show as text. Pages know nothing of HTTP: the server maps their errors to status codes.
#include "results/table.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace gantry::serve {

/// A request's query parameters (a key may repeat: by=a&by=b), as cpp-httplib hands them over.
using Params = std::multimap<std::string, std::string>;

/// What the server answers with its status code: 400 for a bad parameter, 404 for an unknown id.
struct HttpError : std::runtime_error {
  HttpError(int code, const std::string& message) : std::runtime_error(message), status(code) {}
  int status;
};

/// Each experiment with its runs counted by status and its last activity.
std::string experiments_page(Database& db);

/// An experiment's runs as data: run, seed, status, step, steps, the swept parameters (and any
/// parameter filtered on), the metric's final and best value. Parameters: status=S (repeatable),
/// param=KEY=VALUE (repeatable), metric=KEY (default: the primary key), sort=COLUMN, desc=1.
Table runs_table(Database& db, int64_t experiment, const Params& params);
/// The runs table as a page, with links to its CSV/JSON, the comparison and the live script.
std::string experiment_page(Database& db, int64_t experiment, const Params& params);

/// gantry compare's table, heading and seed-noise line, for metric=, by= (repeatable) and at=,
/// with the groups' curves; compare_table gives the table alone, its numbers as `format` wants them.
std::string compare_page(Database& db, int64_t experiment, const Params& params);
Table compare_table(Database& db, int64_t experiment, const Params& params, Format format);
/// The curves of metric= grouped by by=, running runs included, as an <svg> element.
std::string curves_page_svg(Database& db, int64_t experiment, const Params& params);

/// One run: status, error (with its stderr tail), parameters, plugin files and hashes, notes,
/// final and best metrics, checkpoints (where the table exists) and its samples with a step slider.
std::string run_page(Database& db, int64_t run);

/// What the live script polls: the experiment's counts by status and its queued and running runs
/// with their steps, as JSON.
std::string live_json(Database& db, int64_t experiment);
/// One run's status and step as JSON (the live script asks once a run leaves the running list).
std::string run_json(Database& db, int64_t run);

/// A stored picture: its bytes and content type (image/png; anything else as octet-stream).
struct Artifact {
  std::string mime, bytes;
};
Artifact artifact(Database& db, int64_t run, int64_t step);

/// The experiment's metrics in long form, as gantry export writes them (csv or json).
std::string export_text(Database& db, int64_t experiment, Format format);

}  // namespace gantry::serve
