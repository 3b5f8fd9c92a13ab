#pragma once
// The cloud's percent-encoding and query parsing, and the hashes its
// signatures use (OpenSSL behind this header).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

std::string hex(std::string_view bytes);
std::string sha256(std::string_view data);  // raw digest
std::string hmac_sha1(std::string_view key, std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string base64(std::string_view bytes);

}  // namespace sluice::api
