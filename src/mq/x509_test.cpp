// Certificate parsing and the chain check (mq/x509.hpp, issue 18), on a CA and
// a device certificate made once with the openssl CLI (valid 2026-12-04 .. 2126).
#include <gtest/gtest.h>

#include "mq/settings.hpp"
#include "mq/x509.hpp"

namespace sluice::mq {
namespace {

const char* kCa = R"pem(-----BEGIN CERTIFICATE-----
MIIBizCCATGgAwIBAgIUQpbX4dX5irgDbHYoAuN6OqMQDjYwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdW5pdC1jYTAgFw0yNjEyMDQxOTUyNTFaGA8yMTI2MTExMDE5
NTI1MVowEjEQMA4GA1UEAwwHdW5pdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABOed4hS4Tdu/wVXaIiXxQ5d03e/LtkSRIIYEowhELP7uqGk/Sg+m8S11vBJn
BhkYrpR3bQ9Bwo284df8DYLe77ujYzBhMB0GA1UdDgQWBBRwiCLJz1grwvZs1LuV
avy6D5dLvjAfBgNVHSMEGDAWgBRwiCLJz1grwvZs1LuVavy6D5dLvjAPBgNVHRMB
Af8EBTADAQH/MA4GA1UdDwEB/wQEAwICBDAKBggqhkjOPQQDAgNIADBFAiB8zgjz
TUDJNqyenpdX6HHi7LV4BaZTnwD6xPaObmtThwIhAKfBNDDDUs9FvNTsJ8+DmTcu
JqB1HnowXI0OJoR3Lcl0
-----END CERTIFICATE-----
)pem";
const char* kDevice = R"pem(-----BEGIN CERTIFICATE-----
MIIBdTCCARqgAwIBAgICCrwwCgYIKoZIzj0EAwIwEjEQMA4GA1UEAwwHdW5pdC1j
YTAgFw0yNjEyMDQxOTUyNTFaGA8yMTI2MTExMDE5NTI1MVowFjEUMBIGA1UEAwwL
dW5pdC1kZXZpY2UwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR9LAaEAGtTpi4X
n5C/SM/iR+Gkcjnwkl3Ks/iYtxPD60LJNitcThFeBMLeWFbkgPYpSfsdAgJcYKU6
/ygc1cfCo1owWDAJBgNVHRMEAjAAMAsGA1UdDwQEAwIHgDAdBgNVHQ4EFgQUH2N8
dXxCgbZvlcmzwUB043Cf9vkwHwYDVR0jBBgwFoAUcIgiyc9YK8L2bNS7lWr8ug+X
S74wCgYIKoZIzj0EAwIDSQAwRgIhAJJIWUzSiAydurN4c0Oxz5IOJqP8JsZYsqry
MiFM/rQ4AiEA/72zmRsfHfeg8xQR+ZZy5Av7NqK5Sbkklz4+/NvQWKE=
-----END CERTIFICATE-----
)pem";
constexpr int64_t kNow = 1893456000000;      // 2030-01-01
constexpr int64_t kBefore = 1577836800000;   // 2020-01-01
constexpr int64_t kAfter = 4733510400000;    // 2120-01-01 .. still valid
constexpr int64_t kExpired = 4891363200000;  // 2125-01-01 .. valid; 2127 below
constexpr int64_t kPast2127 = 4954435200000;

TEST(X509, ParsesOneCertificateAndRefusesTheRest) {
  std::string why;
  auto ca = x509::parse_pem(kCa, &why);
  ASSERT_TRUE(ca) << why;
  EXPECT_TRUE(ca->is_ca);
  EXPECT_EQ(ca->subject_cn, "unit-ca");
  auto dev = x509::parse_pem(kDevice, &why);
  ASSERT_TRUE(dev) << why;
  EXPECT_FALSE(dev->is_ca);
  EXPECT_EQ(dev->sn, "0abc");  // whole bytes, as openssl x509 -serial writes it
  EXPECT_EQ(dev->issuer_cn, "unit-ca");
  EXPECT_TRUE(x509::signed_by(dev->der, ca->der));
  EXPECT_FALSE(x509::signed_by(ca->der, dev->der));
  // The cloud's examples write newlines as backslash-n.
  std::string escaped;
  for (char c : std::string(kDevice)) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  auto again = x509::parse_pem(escaped, &why);
  ASSERT_TRUE(again) << why;
  EXPECT_EQ(again->der, dev->der);
  EXPECT_FALSE(x509::parse_pem(std::string(kCa) + kDevice, &why));
  EXPECT_NE(why.find("bundle"), std::string::npos);
  EXPECT_FALSE(x509::parse_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", &why));
  EXPECT_FALSE(x509::parse_pem("", &why));
  EXPECT_FALSE(x509::parse_der(dev->der + "x", &why));  // trailing bytes
}

TEST(X509, ChainCheckAndItsCachedVerdictHonourTheDates) {
  std::string why;
  auto ca = x509::parse_pem(kCa, &why), dev = x509::parse_pem(kDevice, &why);
  ASSERT_TRUE(ca && dev);
  x509::TrustStore store({ca->der});
  std::vector<std::string> chain{dev->der};
  auto ok = store.verify(chain, kNow);
  EXPECT_EQ(ok.error, x509::ChainError::None) << ok.why;
  EXPECT_EQ(ok.anchor_sn, ca->sn);
  EXPECT_EQ(ok.device.sn, "0abc");
  EXPECT_EQ(store.verify(chain, kAfter).error, x509::ChainError::None);  // from the cache
  (void)kExpired;
  // The cached verdict must not outlive the certificate.
  EXPECT_EQ(store.verify(chain, kPast2127).error, x509::ChainError::Expired);
  EXPECT_EQ(store.verify(chain, kBefore).error, x509::ChainError::NotYetValid);
  x509::TrustStore other({dev->der});  // a store without the device's CA
  EXPECT_EQ(other.verify(std::vector<std::string>{dev->der}, kNow).error, x509::ChainError::None)
      << "a registered certificate is its own anchor (partial chains)";
  x509::TrustStore empty_store(std::vector<std::string>{});
  EXPECT_EQ(empty_store.verify(chain, kNow).error, x509::ChainError::UnknownCa);
  // The CA's own certificate is no client certificate (keyUsage keyCertSign only).
  EXPECT_NE(store.verify(std::vector<std::string>{ca->der}, kNow).error, x509::ChainError::None);
  EXPECT_EQ(store.verify(std::vector<std::string>{}, kNow).error, x509::ChainError::NoCertificate);
  EXPECT_EQ(store.verify(std::vector<std::string>{"garbage"}, kNow).error, x509::ChainError::Unparsable);
  x509::TrustStore dev_only({});
  EXPECT_EQ(dev_only.verify(std::vector<std::string>{ca->der}, kNow).error, x509::ChainError::SelfSigned);
}

TEST(X509, TlsAuthModeIsASettingWithWords) {
  InstanceSettings s;
  EXPECT_FALSE(s.mutual_tls);
  EXPECT_FALSE(set_setting(s, "TlsAuthMode", "mutual"));
  EXPECT_TRUE(s.mutual_tls);
  EXPECT_EQ(setting_text(s, *find_setting("TlsAuthMode")), "mutual");
  EXPECT_TRUE(settings_from_json(settings_to_json(s)).mutual_tls);
  EXPECT_FALSE(set_setting(s, "TlsAuthMode", "one-way"));
  EXPECT_FALSE(s.mutual_tls);
  EXPECT_TRUE(set_setting(s, "TlsAuthMode", "true"));  // words only
  EXPECT_FALSE(settings_from_json(settings_to_json(s)).mutual_tls);
}

}  // namespace
}  // namespace sluice::mq
