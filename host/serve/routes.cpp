// Every route of gantry serve. Ids are matched as 1–18 digits, so a malformed or overflowing id
// matches nothing and gets 404; a page's own errors (unknown id, metric) become 404/400 in the
// exception handler of server.cpp.
#include "serve/assets.hpp"
#include "serve/pages.hpp"
#include "serve/server.hpp"

#include <httplib.h>

#include <gantry/error.hpp>

#include <iostream>
#include <optional>
#include <sstream>

namespace gantry::serve {

namespace {

constexpr const char* html_type = "text/html; charset=utf-8";
constexpr const char* id = R"((\d{1,18}))";

using Handler = std::function<void(Database&, const httplib::Request&, httplib::Response&)>;

// A fresh read-only connection per request: connections are not shared between the server's
// threads, and SQLite's busy timeout (set on every connection) rides out a writer's checkpoint.
httplib::Server::Handler with_db(const std::filesystem::path& path, Handler handler) {
  return [path, handler](const httplib::Request& req, httplib::Response& res) {
    std::optional<Database> db;
    try {
      db.emplace(path, Database::Access::read_only);
    } catch (const Error& e) {  // the file was there when the server started: it has gone since
      std::cerr << "gantry serve: error: " << e.what() << "\n";
      throw HttpError(503, "the results database cannot be opened now (moved or deleted?)");
    }
    handler(*db, req, res);
  };
}

int64_t id_at(const httplib::Request& req, size_t i) { return std::stoll(req.matches[i].str()); }
Format format_at(const httplib::Request& req, size_t i) {
  return req.matches[i].str() == "csv" ? Format::csv : Format::json;
}
const char* type_of(Format f) { return f == Format::csv ? "text/csv; charset=utf-8" : "application/json"; }
std::string table_text(const Table& t, Format f) {
  std::ostringstream out;
  write_table(out, t, f);
  return out.str();
}

}  // namespace

void Server::add_routes() {
  httplib::Server& s = *http_;
  const std::filesystem::path db = options_.db;
  const std::string exp = std::string("/experiment/") + id;
  s.Get("/assets/style.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(assets::style_css), "text/css; charset=utf-8");
  });
  s.Get("/assets/live.js", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(assets::live_js), "text/javascript; charset=utf-8");
  });
  s.Get("/", with_db(db, [](Database& d, const httplib::Request&, httplib::Response& res) {
          res.set_content(experiments_page(d), html_type);
        }));
  s.Get(exp, with_db(db, [](Database& d, const httplib::Request& req, httplib::Response& res) {
          res.set_content(experiment_page(d, id_at(req, 1), req.params), html_type);
        }));
  s.Get(exp + "/compare", with_db(db, [](Database& d, const httplib::Request& req, httplib::Response& res) {
          res.set_content(compare_page(d, id_at(req, 1), req.params), html_type);
        }));
  s.Get(exp + R"(/curves\.svg)", with_db(db, [](Database& d, const httplib::Request& req, httplib::Response& res) {
          res.set_content(curves_page_svg(d, id_at(req, 1), req.params), "image/svg+xml");
        }));
  s.Get(exp + R"(/runs\.(csv|json))", with_db(db, [](Database& d, const httplib::Request& req, httplib::Response& res) {
          const Format f = format_at(req, 2);
          res.set_content(table_text(runs_table(d, id_at(req, 1), req.params), f), type_of(f));
        }));
  s.Get(exp + R"(/compare\.(csv|json))",
        with_db(db, [](Database& d, const httplib::Request& req, httplib::Response& res) {
          const Format f = format_at(req, 2);
          res.set_content(table_text(compare_table(d, id_at(req, 1), req.params, f), f), type_of(f));
        }));
  s.Get(exp + R"(/metrics\.(csv|json))",
        with_db(db, [](Database& d, const httplib::Request& req, httplib::Response& res) {
          const Format f = format_at(req, 2);
          res.set_content(export_text(d, id_at(req, 1), f), type_of(f));
        }));
  s.Get(std::string("/run/") + id, with_db(db, [](Database& d, const httplib::Request& req, httplib::Response& res) {
          res.set_content(run_page(d, id_at(req, 1)), html_type);
        }));
  s.Get(std::string("/artifact/") + id + "/" + id,
        with_db(db, [](Database& d, const httplib::Request& req, httplib::Response& res) {
          Artifact a = artifact(d, id_at(req, 1), id_at(req, 2));
          res.set_content(std::move(a.bytes), a.mime.c_str());
        }));
  s.Get(std::string("/api/experiment/") + id + "/live",
        with_db(db, [](Database& d, const httplib::Request& req, httplib::Response& res) {
          res.set_content(live_json(d, id_at(req, 1)), "application/json");
        }));
  s.Get(std::string("/api/run/") + id,
        with_db(db, [](Database& d, const httplib::Request& req, httplib::Response& res) {
          res.set_content(run_json(d, id_at(req, 1)), "application/json");
        }));
}

}  // namespace gantry::serve
