#include "serve/layout.hpp"

#include "util/text.hpp"

#include <cctype>
#include <fmt/format.h>

namespace gantry::serve {

std::string page_shell(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>gantry: {0}</title>\n"
      "<link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body>\n"
      "<nav><a href=\"/\">experiments</a></nav>\n<h1>{0}</h1>\n{1}"
      "<script src=\"/assets/live.js\"></script>\n</body></html>\n",
      html_escape(title), body);
}

std::string param(const Params& params, const std::string& key, const std::string& fallback) {
  const auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

std::vector<std::string> param_all(const Params& params, const std::string& key) {
  std::vector<std::string> out;
  for (auto [it, end] = params.equal_range(key); it != end; ++it) out.push_back(it->second);
  return out;
}

std::string query_string(const Params& params) {
  std::string out;
  auto encode = [](const std::string& s) {
    std::string e;
    for (const unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
        e += static_cast<char>(c);
      else
        e += fmt::format("%{:02X}", c);
    }
    return e;
  };
  for (const auto& [key, value] : params)
    out += fmt::format("{}{}={}", out.empty() ? "?" : "&", encode(key), encode(value));
  return out;
}

std::string experiment_name(Database& db, int64_t experiment) {
  auto st = db.prepare("SELECT name FROM experiments WHERE id = ?1");
  st.bind(1, experiment);
  if (!st.step()) throw HttpError(404, fmt::format("no experiment with id {}", experiment));
  return st.column_text(0);
}

std::string html_table(const Table& t, const std::string& attributes) {
  std::string html = fmt::format("<table{}><tr>", attributes);
  for (const auto& c : t.columns) html += fmt::format("<th>{}</th>", html_escape(c));
  html += "</tr>\n";
  for (const auto& row : t.rows) {
    html += "<tr>";
    for (size_t i = 0; i < row.size(); ++i)
      html += fmt::format("<td{}>{}</td>", i < t.numeric.size() && t.numeric[i] ? " class=\"num\"" : "",
                          html_escape(row[i]));
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

}  // namespace gantry::serve
