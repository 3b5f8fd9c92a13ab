// libFuzzer target: the certificate parsing the management API exposes
// (issue 18: RegisterCaCertificate's CaContent and VerificationContent) and
// the chain check a mutual-TLS CONNECT runs on what a client sends. Input: the
// first byte picks the path, the rest is the data. Properties: nothing
// crashes; a certificate that parses, re-parsed from the PEM it was written
// back as, is the same certificate (serial, DER); its serial is lowercase hex.
// Seeds: fuzz/corpus/cert_parse/.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mq/x509.hpp"

using namespace sluice::mq;

namespace {
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property failed: %s\n", what);
    std::abort();
  }
}
void round_trip(const x509::CertInfo& c) {
  std::string why;
  auto again = x509::parse_pem(c.pem, &why);
  check(again.has_value(), "a parsed certificate's PEM parses");
  check(again->der == c.der && again->sn == c.sn, "PEM round trip keeps the certificate");
  for (char ch : c.sn) check((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || ch == '-', "serial is hex");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0] % 4;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string why;
  switch (mode) {
    case 0:
      if (auto c = x509::parse_pem(in, &why)) round_trip(*c);
      else check(!why.empty(), "a refusal says why");
      break;
    case 1:
      if (auto c = x509::parse_der(in, &why)) round_trip(*c);
      break;
    case 2: {
      // Two DER blobs split at the midpoint: signed_by on arbitrary pairs.
      const size_t half = in.size() / 2;
      (void)x509::signed_by(in.substr(0, half), in.substr(half));
      break;
    }
    default: {
      // A chain of up to four DER blobs (2-byte big-endian lengths) against a
      // trust store of the first one.
      std::vector<std::string> chain;
      while (in.size() >= 2 && chain.size() < 4) {
        const size_t n = (static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]);
        in.remove_prefix(2);
        chain.emplace_back(in.substr(0, std::min(n, in.size())));
        in.remove_prefix(std::min(n, in.size()));
      }
      if (chain.empty()) break;
      x509::TrustStore store({chain[0]});
      auto v = store.verify(chain, 1700000000000);
      check(v.error != x509::ChainError::None || !v.anchor_sn.empty(), "an accepted chain names its anchor");
      break;
    }
  }
  return 0;
}
