#pragma once
// The digests, MACs and encodings every layer uses: the API's request
// signatures, the MQTT passwords of ApsaraMQ (Base64(HMAC-SHA1)), token hashes,
// ids. One implementation, OpenSSL behind this header.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::common {

std::string sha256(std::string_view data);      // raw 32-byte digest
std::string sha256_hex(std::string_view data);  // lower-case hex of it
std::string hex(std::string_view bytes);        // lower-case

// HMAC (RFC 2104) over digests fetched once per process, with a per-thread
// digest context: OpenSSL 3's one-shot HMAC() fetches the algorithm and
// allocates on every call, ~20,000 instructions for a 40-byte message, which
// was most of the cost of a Signature-mode CONNECT. Raw MAC bytes.
std::string hmac_sha1(std::string_view key, std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);  // strict; ignores surrounding whitespace

// Compares a secret or MAC someone gave with the one expected, in time that
// depends only on the length of `expected`: a different length is false after
// the same work, so the timing tells neither the bytes nor much of the length.
bool constant_time_equal(std::string_view given, std::string_view expected);

}  // namespace sluice::common
