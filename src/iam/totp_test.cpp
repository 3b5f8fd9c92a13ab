// TOTP against the RFC test vectors, and the acceptance window and replay rule.
#include "iam/totp.hpp"

#include <gtest/gtest.h>

namespace sluice::iam::totp {
namespace {

const std::string kSeed = "12345678901234567890";  // RFC 4226 / RFC 6238 (SHA1) test seed

TEST(Totp, Rfc4226HotpVectors) {
  const char* want[] = {"755224", "287082", "359152", "969429", "338314",
                        "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t c = 0; c < 10; ++c) EXPECT_EQ(hotp(kSeed, c), want[c]) << c;
}

TEST(Totp, Rfc6238Sha1Vectors) {
  struct V {
    int64_t t;
    const char* code;
  } const vs[] = {{59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
                  {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& v : vs) EXPECT_EQ(code_at(kSeed, v.t, 8), v.code) << v.t;
  EXPECT_EQ(code_at(kSeed, 59), "287082");  // six digits: the low six of the eight
}

TEST(Totp, AcceptsOneStepOfSkewEachWayAndNoMore) {
  const int64_t now = 1'800'000'015;  // mid-step
  const int64_t step = now / kStepSeconds;
  EXPECT_EQ(verify(kSeed, code_at(kSeed, now), now, 0), step);
  EXPECT_EQ(verify(kSeed, code_at(kSeed, now - 30), now, 0), step - 1);
  EXPECT_EQ(verify(kSeed, code_at(kSeed, now + 30), now, 0), step + 1);
  EXPECT_FALSE(verify(kSeed, code_at(kSeed, now - 60), now, 0));
  EXPECT_FALSE(verify(kSeed, code_at(kSeed, now + 60), now, 0));
}

TEST(Totp, ACodeIsAcceptedOnce) {
  const int64_t now = 1'800'000'015;
  auto s = verify(kSeed, code_at(kSeed, now), now, 0);
  ASSERT_TRUE(s);
  EXPECT_FALSE(verify(kSeed, code_at(kSeed, now), now, *s));       // the same code again
  EXPECT_FALSE(verify(kSeed, code_at(kSeed, now - 30), now, *s));  // an older one
  EXPECT_TRUE(verify(kSeed, code_at(kSeed, now + 30), now + 30, *s));
}

TEST(Totp, RefusesMalformedCodes) {
  const int64_t now = 1'800'000'015;
  std::string c = code_at(kSeed, now);
  EXPECT_FALSE(verify(kSeed, "", now, 0));
  EXPECT_FALSE(verify(kSeed, c + "0", now, 0));
  EXPECT_FALSE(verify(kSeed, c.substr(0, 5), now, 0));
  EXPECT_FALSE(verify(kSeed, "12345a", now, 0));
}

TEST(Totp, Base32RoundTripAndRfc4648Vectors) {
  EXPECT_EQ(base32_encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(base32_encode("f"), "MY");
  EXPECT_EQ(base32_decode("MZXW6YTBOI======"), "foobar");
  EXPECT_EQ(base32_decode("mzxw6ytboi"), "foobar");
  EXPECT_FALSE(base32_decode("MZ1W"));
  EXPECT_EQ(base32_decode(base32_encode(kSeed)), kSeed);
}

TEST(Totp, OtpauthUri) {
  EXPECT_EQ(otpauth_uri("Sluice", "alice@1234", "ABC"),
            "otpauth://totp/Sluice:alice@1234?secret=ABC&issuer=Sluice&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace sluice::iam::totp
