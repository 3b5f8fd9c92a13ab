#pragma once
// X.509 for device certificates (issue 18), over OpenSSL 3: parsing the PEM
// the API is given, proof of possession of a CA's key, and the chain check a
// mutual-TLS CONNECT goes through. Only public certificates pass through here;
// nothing reads or keeps a private key.
//
// Serial numbers: lowercase hex of the serial's value in whole bytes (OpenSSL's
// BN_bn2hex; `openssl x509 -serial` prints the same digits in upper case).
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct x509_store_st;

namespace sluice::mq::x509 {

struct CertInfo {
  std::string sn;          // serial number, lowercase hex
  std::string subject_cn;  // empty when the subject has no CN
  std::string issuer_cn;
  int64_t not_before_ms = 0, not_after_ms = 0;
  bool is_ca = false;         // basicConstraints CA:TRUE (X509_check_ca)
  bool self_signed = false;   // subject == issuer and its own key verifies it
  std::string der;
  std::string pem;            // re-encoded from the DER: one canonical form to store and show
};

// Exactly one certificate in PEM (surrounding whitespace allowed; "\n" written
// as the two characters backslash-n, as the cloud's examples show it, is read
// as a newline). nullopt with `why` (for a person) on anything else.
std::optional<CertInfo> parse_pem(std::string_view pem, std::string* why);
std::optional<CertInfo> parse_der(std::string_view der, std::string* why);

// The PEM of a DER certificate (empty if it does not parse).
std::string pem_of_der(std::string_view der);

// Whether `child` (DER) carries a signature made with the key of `issuer` (DER).
bool signed_by(std::string_view child_der, std::string_view issuer_der);

// Why a presented chain is refused.
enum class ChainError {
  None,
  NoCertificate,   // the client sent none
  Unparsable,      // a certificate that does not parse
  Expired,         // the device certificate or one above it
  NotYetValid,
  SelfSigned,      // a self-signed certificate not registered as a CA of the instance
  UnknownCa,       // chains to no CA registered on the instance (wrong CA, or a truncated chain)
  Invalid,         // bad signature, a non-CA issuer, a path length exceeded, ...
};
const char* to_string(ChainError e);

// The CAs of one instance as OpenSSL's trust store, built once per snapshot and
// shared by every CONNECT that checks against it. Any registered CA is a trust
// anchor (a registered intermediate too: partial chains are allowed); whether
// it is active is for the caller to say, from anchor_sn.
class TrustStore {
 public:
  explicit TrustStore(const std::vector<std::string>& ca_ders);
  ~TrustStore();
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

  struct Verdict {
    ChainError error = ChainError::None;
    std::string why;        // for the audit log
    std::string anchor_sn;  // the registered CA the chain ends at
    CertInfo device;        // the client's own certificate (parsed even when refused, if it parses; no PEM)
  };
  // chain_der: the client's certificate first, then whatever it sent with it.
  Verdict verify(std::span<const std::string> chain_der, int64_t now_ms) const;
  bool empty() const { return count_ == 0; }
  // The CAs as OpenSSL's store, for a TLS handshake to verify against (net/tls.cpp).
  x509_store_st* native() const { return store_; }

 private:
  Verdict verify_uncached(std::span<const std::string> chain_der, int64_t now_ms, int64_t* from_ms,
                          int64_t* until_ms) const;
  x509_store_st* store_ = nullptr;
  size_t count_ = 0;
  // Accepted chains (their DER, length-prefixed) and the window their verdict
  // holds in: a reconnecting device costs a lookup, not a chain verification.
  static constexpr size_t kCacheEntries = 4096;
  struct Cached {
    Verdict verdict;
    int64_t from_ms = 0, until_ms = 0;
  };
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, Cached> cache_;
};

}  // namespace sluice::mq::x509
