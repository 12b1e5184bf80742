#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace gantry {

/// RFC 4648 base64, used for pictures in event lines and in HTML reports.
std::string base64_encode(std::string_view bytes);
/// nullopt for text that is not base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace gantry
