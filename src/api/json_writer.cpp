#include "api/json_writer.hpp"

#include "common/json_string.hpp"

namespace sluice::api {

void json_escape_to(std::string& out, std::string_view s) { common::json_quote_to(out, s); }

}  // namespace sluice::api
