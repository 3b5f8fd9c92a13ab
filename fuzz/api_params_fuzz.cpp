// libFuzzer target: the management API's request parsing on arbitrary bytes —
// query / form decoding, the cloud's percent-encoding, the V1 canonical string,
// the V3 Authorization header and canonical request, and timestamps. Properties:
// nothing crashes; decode(encode(x)) == x for every decoded key and value; a
// parsed timestamp formats and parses back to itself; a parsed V3 header has a
// key id and a signature. Seeds: fuzz/corpus/api_params/.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "api/encoding.hpp"
#include "api/signature.hpp"

using namespace sluice::api;

namespace {
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property failed: %s\n", what);
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  Params params;
  if (parse_query(in, params)) {
    for (const auto& [k, v] : params) {
      std::string back;
      check(percent_decode(percent_encode(k), back) && back == k, "key round trip");
      check(percent_decode(percent_encode(v), back) && back == v, "value round trip");
    }
    (void)v1_string_to_sign("POST", params);
    (void)v3_canonical_query(params);
    std::vector<std::string> signed_headers;
    for (const auto& [k, v] : params) signed_headers.push_back(k);
    (void)v3_canonical_request("POST", "/", params, params, signed_headers, "e3b0c442");
  }

  if (auto a = parse_v3_authorization(in)) check(!a->access_key_id.empty() && !a->signature.empty(), "v3 fields");

  if (auto t = parse_timestamp(in)) {
    auto again = parse_timestamp(format_timestamp(*t));
    check(again && *again == *t, "timestamp round trip");
  }
  return 0;
}
