#pragma once
// The cloud's percent-encoding and query parsing, and the names its signature
// code uses for the digests of src/common.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/crypto.hpp"

namespace sluice::api {

using Params = std::vector<std::pair<std::string, std::string>>;

// RFC 3986 as the cloud applies it: A-Z a-z 0-9 - _ . ~ stay, every other byte
// becomes %XX (upper-case hex); so space is %20, '*' is %2A, '~' stays.
std::string percent_encode(std::string_view s);
// Decodes %XX and '+' (as a space: form bodies). false on a malformed escape.
bool percent_decode(std::string_view s, std::string& out);
// "a=1&b=2" -> [(a,1),(b,2)] in order; keys and values decoded. Empty pieces
// are skipped; "a" alone is (a,""). false on a malformed escape.
bool parse_query(std::string_view q, Params& out);

using common::hex;           // lower-case
using common::hmac_sha1;     // raw MAC
using common::hmac_sha256;   // raw MAC
using common::sha256;        // raw digest
inline std::string base64(std::string_view bytes) { return common::base64_encode(bytes); }

}  // namespace sluice::api
