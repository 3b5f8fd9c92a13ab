#pragma once
// The cloud's two request-signing schemes, computed exactly as its SDKs do,
// plus the replay defences around them (timestamp window, nonce cache).
//
// V1 (`@alicloud/pop-core`, HMAC-SHA1): every parameter except Signature,
//   sorted by name, each name and value percent-encoded (encoding.hpp), joined
//   "k=v&k=v"; StringToSign = METHOD + "&%2F&" + encode(that); the signature is
//   Base64(HMAC-SHA1(key = secret + "&", StringToSign)).
// V3 (`ACS3-HMAC-SHA256`, the generated SDKs via @alicloud/openapi-core):
//   canonical request = METHOD \n URI \n canonical query \n canonical headers \n
//   signed header names joined by ';' \n hex(sha256(body)) (x-acs-content-sha256);
//   StringToSign = "ACS3-HMAC-SHA256\n" + hex(sha256(canonical request));
//   signature = hex(HMAC-SHA256(key = secret, StringToSign)).
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "api/encoding.hpp"

namespace sluice::api {

// The sorted, encoded "k=v&..." of V1 (Signature excluded by the caller).
std::string v1_canonicalized(const Params& params);
std::string v1_string_to_sign(std::string_view method, const Params& params);
std::string v1_sign(std::string_view secret, std::string_view string_to_sign);

struct V3Authorization {
  std::string access_key_id;
  std::vector<std::string> signed_headers;  // lower-case, as listed
  std::string signature;                    // hex
};
// Parses "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex".
std::optional<V3Authorization> parse_v3_authorization(std::string_view header);
// Canonical query: names sorted, "name=encode(value)" joined by '&'.
std::string v3_canonical_query(const Params& query);
// headers: lower-case names. Values of a signed header are trimmed, sorted, joined by ','.
std::string v3_canonical_request(std::string_view method, std::string_view uri, const Params& query,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::vector<std::string>& signed_headers, std::string_view payload_hash);
std::string v3_string_to_sign(std::string_view canonical_request);
std::string v3_sign(std::string_view secret, std::string_view string_to_sign);

// "2024-05-01T12:00:00Z" (optionally with .fff before the Z) -> Unix seconds.
std::optional<int64_t> parse_timestamp(std::string_view s);
std::string format_timestamp(int64_t unix_seconds);  // "2024-05-01T12:00:00Z"

// Remembers (access key, nonce) pairs long enough that a replay inside the
// timestamp window is caught: entries live for 2 x window after they were
// seen. Each pair is kept as a 64-bit hash salted per process (about 50 bytes
// an entry; nobody outside can aim a collision at it). Bounded: past
// `max_entries` the oldest are forgotten early (a replay of one of those would
// need a request older than the cache's span).
class NonceCache {
 public:
  explicit NonceCache(int64_t ttl_seconds = 1800, size_t max_entries = 2'000'000)
      : ttl_(ttl_seconds), max_(max_entries), salt_(random_salt()) {}
  // true: first use (now remembered); false: seen before.
  bool first_use(std::string_view access_key_id, std::string_view nonce, int64_t now);
  size_t size() const;

 private:
  static uint64_t random_salt();
  int64_t ttl_;
  size_t max_;
  mutable std::mutex mu_;
  uint64_t salt_;
  std::unordered_set<uint64_t> seen_;
  std::deque<std::pair<int64_t, uint64_t>> order_;  // (expires, hash), insertion order
};

}  // namespace sluice::api
