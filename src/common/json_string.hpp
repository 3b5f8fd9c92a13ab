#pragma once
// A JSON string literal: `s` quoted and escaped (", \, control characters),
// appended to `out`. Bytes >= 0x80 pass through (the caller's text is UTF-8).
// One escaper for every layer that writes JSON by hand (api's JsonWriter,
// the rules' target bodies).
#include <string>
#include <string_view>

namespace sluice::common {

void json_quote_to(std::string& out, std::string_view s);

}  // namespace sluice::common
