// The shared digests and encodings: RFC vectors, the ApsaraMQ Signature
// vector, base64's strictness and the constant-time compare.
#include "common/crypto.hpp"

#include <gtest/gtest.h>

#include "common/base64_to.hpp"
#include "common/iso_time.hpp"

using namespace sluice::common;

// RFC 2202 (HMAC-SHA1) and RFC 4231 (HMAC-SHA256) vectors, including a key
// longer than the block (hashed first), and the ApsaraMQ Signature vector.
TEST(Crypto, HmacMatchesTheRfcVectors) {
  EXPECT_EQ(hex(hmac_sha1(std::string(20, '\x0b'), "Hi There")), "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hex(hmac_sha1("Jefe", "what do ya want for nothing?")), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(hex(hmac_sha1(std::string(80, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(base64_encode(hmac_sha1("XXXXX", "GID_Test@@@0001")), "vI009IZJZVGRwBwZvnbwjfuXxVM=");
}

TEST(Crypto, Sha256AndHex) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256("abc")), sha256_hex("abc"));
  EXPECT_EQ(hex(std::string("\x00\xff\x10", 3)), "00ff10");
}

TEST(Crypto, Base64IsStrict) {
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(*base64_decode("Zm9vYg==\n"), "foob");
  EXPECT_EQ(*base64_decode(" Zm9v "), "foo");
  EXPECT_FALSE(base64_decode("Zm9vY"));
  EXPECT_FALSE(base64_decode("Zm9v!mFy"));
}

TEST(Crypto, ConstantTimeEqual) {
  struct Case {
    const char *given, *expected;
    bool equal;
  };
  for (const Case& c : {Case{"abc", "abc", true}, Case{"", "", true}, Case{"abd", "abc", false},
                        Case{"ab", "abc", false}, Case{"abcd", "abc", false}, Case{"", "x", false}})
    EXPECT_EQ(constant_time_equal(c.given, c.expected), c.equal) << c.given << " vs " << c.expected;
}

TEST(IsoTime, FormatsUtcToTheSecond) {
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601_utc(1714564800), "2024-05-01T12:00:00Z");
}

// The envelope's base64 (base64_to.hpp) agrees with OpenSSL's for every length
// and byte value around the block edges.
TEST(Base64To, AgreesWithBase64Encode) {
  std::string in;
  for (int n = 0; n < 300; ++n) {
    std::string out(sluice::common::base64_size(in.size()), '?');
    ASSERT_EQ(sluice::common::base64_to(out.data(), in), out.size());
    ASSERT_EQ(out, base64_encode(in)) << n;
    in += static_cast<char>((n * 151 + 7) & 0xff);
  }
}

// The SSSE3 blocks (taken from 16 bytes on where the CPU has it) and the
// table path give the same text for every length, every byte value in every
// position of a block, and any alignment of the input.
TEST(Base64To, SimdAndTableAgree) {
  std::string in;
  uint32_t x = 12345;
  for (int n = 0; n < 400; ++n) {
    for (size_t skew = 0; skew < 4; ++skew) {
      const std::string buf = std::string(skew, 'x') + in;
      const std::string_view v(buf.data() + skew, in.size());
      std::string a(sluice::common::base64_size(v.size()), '?'), b = a;
      ASSERT_EQ(sluice::common::base64_to(a.data(), v), a.size());
      ASSERT_EQ(sluice::common::base64_to_portable(b.data(), v), b.size());
      ASSERT_EQ(a, b) << n << " " << skew;
    }
    x = x * 1103515245 + 12345;
    in += static_cast<char>(n < 256 ? n : (x >> 16) & 0xff);
  }
  for (int c = 0; c < 256; ++c)
    for (size_t at = 0; at < 16; ++at) {
      std::string block(16, static_cast<char>(0x5a));
      block[at] = static_cast<char>(c);
      std::string a(sluice::common::base64_size(16), '?');
      sluice::common::base64_to(a.data(), block);
      ASSERT_EQ(a, base64_encode(block)) << c << " at " << at;
    }
}
