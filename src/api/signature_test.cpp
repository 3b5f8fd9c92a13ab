// Signature vectors computed once with the cloud SDKs' own code
// (@alicloud/openapi-core utils: getRPCSignature, getAuthorization; and
// pop-core's encode/canonicalize) and hard-coded here.
#include <gtest/gtest.h>

#include "api/encoding.hpp"
#include "api/signature.hpp"

namespace sluice::api {
namespace {

Params vector_params() {
  return {{"Action", "CreateUser"},
          {"Version", "2015-05-01"},
          {"Format", "JSON"},
          {"AccessKeyId", "LTAIexample1234567890"},
          {"SignatureMethod", "HMAC-SHA1"},
          {"SignatureVersion", "1.0"},
          {"SignatureNonce", "nonce-1"},
          {"Timestamp", "2024-05-01T12:00:00Z"},
          {"UserName", "alice bob*~(x)!'"},
          {"Comments", "h\xC3\xA9llo/=&+"}};
}

TEST(PercentEncode, CloudRules) {
  EXPECT_EQ(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(percent_encode(" "), "%20");
  EXPECT_EQ(percent_encode("*"), "%2A");
  EXPECT_EQ(percent_encode("+"), "%2B");
  EXPECT_EQ(percent_encode("!'()"), "%21%27%28%29");
  EXPECT_EQ(percent_encode("/=&"), "%2F%3D%26");
  EXPECT_EQ(percent_encode("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(percent_encode(std::string("\0", 1)), "%00");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(PercentDecode, FormsAndErrors) {
  std::string out;
  ASSERT_TRUE(percent_decode("a%20b+c%2B%c3%a9", out));
  EXPECT_EQ(out, "a b c+\xC3\xA9");
  EXPECT_FALSE(percent_decode("%", out));
  EXPECT_FALSE(percent_decode("%2", out));
  EXPECT_FALSE(percent_decode("%zz", out));
  EXPECT_FALSE(percent_decode("abc%4", out));
}

TEST(ParseQuery, Pieces) {
  Params p;
  ASSERT_TRUE(parse_query("a=1&&b=&c&d=x%3Dy", p));
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(p[1].second, "");
  EXPECT_EQ(p[2].first, "c");
  EXPECT_EQ(p[3].second, "x=y");
  Params bad;
  EXPECT_FALSE(parse_query("a=%G1", bad));
}

TEST(SignatureV1, MatchesSdkVectors) {
  auto p = vector_params();
  EXPECT_EQ(v1_sign("secretKEY123", v1_string_to_sign("GET", p)), "QR1JfzhCRykGYw4JEnpnrt0NYVA=");
  EXPECT_EQ(v1_sign("secretKEY123", v1_string_to_sign("POST", p)), "esupjf0u89pktKEXVKyuD/eownI=");
  EXPECT_NE(v1_sign("secretKEY124", v1_string_to_sign("GET", p)), "QR1JfzhCRykGYw4JEnpnrt0NYVA=");
  // Order of parameters does not matter; their values do.
  std::reverse(p.begin(), p.end());
  EXPECT_EQ(v1_sign("secretKEY123", v1_string_to_sign("GET", p)), "QR1JfzhCRykGYw4JEnpnrt0NYVA=");
  p[0].second += "x";
  EXPECT_NE(v1_sign("secretKEY123", v1_string_to_sign("GET", p)), "QR1JfzhCRykGYw4JEnpnrt0NYVA=");
}

TEST(SignatureV1, StringToSignShape) {
  Params p{{"B", "2"}, {"A", "a b"}};
  EXPECT_EQ(v1_string_to_sign("GET", p), "GET&%2F&A%3Da%2520b%26B%3D2");
}

TEST(SignatureV3, MatchesSdkVector) {
  std::string auth =
      "ACS3-HMAC-SHA256 Credential=LTAIexample1234567890,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
      "x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
      "171f866067f9ced062a8886c1a4a915f7bd7868e77f8293fc7a2731321f2ad1c";
  auto a = parse_v3_authorization(auth);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->access_key_id, "LTAIexample1234567890");
  ASSERT_EQ(a->signed_headers.size(), 6u);
  std::string empty_hash = hex(sha256(""));
  EXPECT_EQ(empty_hash, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::vector<std::pair<std::string, std::string>> headers{
      {"host", "127.0.0.1:8080"},         {"x-acs-version", "2015-05-01"},
      {"x-acs-action", "CreateUser"},     {"user-agent", "x"},
      {"x-acs-date", "2024-05-01T12:00:00Z"}, {"x-acs-signature-nonce", "nonce-3"},
      {"accept", "application/json"},     {"x-acs-content-sha256", empty_hash}};
  Params q{{"UserName", "alice bob*~"}, {"Comments", "h\xC3\xA9llo/=&+"}, {"Tag.1.Key", "k"}};
  auto cr = v3_canonical_request("POST", "/", q, headers, a->signed_headers, empty_hash);
  EXPECT_EQ(v3_sign("secretKEY123", v3_string_to_sign(cr)), a->signature);
  EXPECT_NE(v3_sign("secretKEY12", v3_string_to_sign(cr)), a->signature);
  headers[1].second = "2015-05-02";  // a signed header changed in transit
  cr = v3_canonical_request("POST", "/", q, headers, a->signed_headers, empty_hash);
  EXPECT_NE(v3_sign("secretKEY123", v3_string_to_sign(cr)), a->signature);
}

TEST(SignatureV3, AuthorizationHeaderErrors) {
  EXPECT_FALSE(parse_v3_authorization("ACS3-HMAC-SHA256 Credential=AK,Signature=ab"));
  EXPECT_FALSE(parse_v3_authorization("ACS3-HMAC-SM3 Credential=AK,SignedHeaders=host,Signature=ab"));
  EXPECT_FALSE(parse_v3_authorization("ACS3-HMAC-SHA256 garbage"));
  EXPECT_FALSE(parse_v3_authorization("ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=ab"));
  EXPECT_TRUE(parse_v3_authorization("ACS3-HMAC-SHA256 Credential=AK, SignedHeaders=host, Signature=ab"));
}

TEST(Timestamp, ParseAndFormat) {
  EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_timestamp("2024-05-01T12:00:00Z"), 1714564800);
  EXPECT_EQ(parse_timestamp("2024-05-01T12:00:00.123Z"), 1714564800);
  EXPECT_EQ(format_timestamp(1714564800), "2024-05-01T12:00:00Z");
  for (const char* bad : {"", "2024-05-01 12:00:00Z", "2024-05-01T12:00:00", "2024-13-01T12:00:00Z",
                          "2024-05-01T25:00:00Z", "2024-05-01T12:00:00+08:00", "2024-05-01T12:00:00.Z", "yesterday",
                          "2024-05-01T12:00:0xZ"})
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
}

TEST(NonceCache, ReplayAndExpiry) {
  NonceCache c(100, 1000);
  EXPECT_TRUE(c.first_use("AK", "n1", 1000));
  EXPECT_FALSE(c.first_use("AK", "n1", 1050));
  EXPECT_TRUE(c.first_use("AK2", "n1", 1050));  // per access key
  EXPECT_TRUE(c.first_use("AK", "n2", 1050));
  EXPECT_TRUE(c.first_use("AK", "n1", 1101));   // forgotten after its ttl
  EXPECT_EQ(c.size(), 3u);
}

TEST(NonceCache, Bounded) {
  NonceCache c(1000, 10);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(c.first_use("AK", std::to_string(i), 5));
  EXPECT_LE(c.size(), 10u);
  EXPECT_FALSE(c.first_use("AK", "99", 5));
}

}  // namespace
}  // namespace sluice::api
