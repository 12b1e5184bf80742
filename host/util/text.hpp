#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace gantry {

/// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);
/// The candidates within a small edit distance of `name`, closest first.
std::vector<std::string> closest_names(std::string_view name, const std::vector<std::string>& candidates);

/// `s` as a JSON string literal, quotes included.
std::string json_string(std::string_view s);
/// The strings as a JSON array: ["a", "b"].
std::string json_array(const std::vector<std::string>& items);
/// `s` as text inside HTML or SVG, in an element or a double-quoted attribute: & < > " escaped
/// (gantry quotes every attribute with ", so ' needs no escape).
std::string html_escape(std::string_view s);

}  // namespace gantry
