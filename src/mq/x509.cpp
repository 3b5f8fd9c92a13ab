#include "mq/x509.hpp"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <ctime>

namespace sluice::mq::x509 {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

constexpr size_t kMaxPem = 64 * 1024;  // a certificate is a few KiB; bound what the API parses

X509Ptr from_der(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  // Trailing bytes after the certificate are not a certificate: refused.
  if (x && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(x);
    x = nullptr;
  }
  ERR_clear_error();
  return X509Ptr(x);
}

std::string to_der(X509* x) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  std::string out;
  if (n > 0) out.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string to_pem(X509* x) {
  BIO* b = BIO_new(BIO_s_mem());
  std::string out;
  if (b && PEM_write_bio_X509(b, x) == 1) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    if (n > 0) out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(b);
  return out;
}

std::string cn_of(const X509_NAME* name) {
  if (!name) return {};
  const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  std::string out;
  if (n > 0) out.assign(reinterpret_cast<const char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

int64_t ms_of(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::string serial_hex(X509* x) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  std::string out;
  if (bn) {
    char* hex = BN_bn2hex(bn);
    if (hex) {
      out = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `full`: also the PEM and whether it is self-signed (a signature check):
// what the API shows and stores, not what a CONNECT needs.
CertInfo info_of(X509* x, bool full = true) {
  CertInfo c;
  c.sn = serial_hex(x);
  c.subject_cn = cn_of(X509_get_subject_name(x));
  c.issuer_cn = cn_of(X509_get_issuer_name(x));
  c.not_before_ms = ms_of(X509_get0_notBefore(x));
  c.not_after_ms = ms_of(X509_get0_notAfter(x));
  c.is_ca = X509_check_ca(x) >= 1;
  c.der = to_der(x);
  if (full) {
    c.self_signed = X509_self_signed(x, 1) == 1;
    c.pem = to_pem(x);
  }
  ERR_clear_error();
  return c;
}

// "\n" typed as backslash + n (the cloud's examples) becomes a newline.
std::string unescape_newlines(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 1 < in.size() && in[i + 1] == 'n') {
      out.push_back('\n');
      ++i;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

std::optional<CertInfo> parse_der(std::string_view der, std::string* why) {
  if (der.empty() || der.size() > kMaxPem) {
    if (why) *why = "not a certificate (empty or over 64 KiB)";
    return std::nullopt;
  }
  X509Ptr x = from_der(der);
  if (!x) {
    if (why) *why = "not a DER X.509 certificate";
    return std::nullopt;
  }
  return info_of(x.get());
}

std::optional<CertInfo> parse_pem(std::string_view pem_in, std::string* why) {
  if (pem_in.empty() || pem_in.size() > kMaxPem) {
    if (why) *why = "a PEM certificate is required (at most 64 KiB)";
    return std::nullopt;
  }
  const std::string pem = unescape_newlines(pem_in);
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!b) {
    if (why) *why = "out of memory";
    return std::nullopt;
  }
  X509Ptr x(PEM_read_bio_X509(b, nullptr, nullptr, nullptr));
  // One certificate only: a second one (a bundle) would be silently ignored.
  X509Ptr second;
  if (x) second.reset(PEM_read_bio_X509(b, nullptr, nullptr, nullptr));
  BIO_free(b);
  ERR_clear_error();
  if (!x) {
    if (why) *why = "not a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)";
    return std::nullopt;
  }
  if (second) {
    if (why) *why = "exactly one certificate is expected, not a bundle";
    return std::nullopt;
  }
  return info_of(x.get());
}

std::string pem_of_der(std::string_view der) {
  X509Ptr x = from_der(der);
  return x ? to_pem(x.get()) : std::string();
}

bool signed_by(std::string_view child_der, std::string_view issuer_der) {
  X509Ptr child = from_der(child_der), issuer = from_der(issuer_der);
  if (!child || !issuer) return false;
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  const bool ok = key && X509_verify(child.get(), key) == 1;
  ERR_clear_error();
  return ok;
}

const char* to_string(ChainError e) {
  switch (e) {
    case ChainError::None: return "ok";
    case ChainError::NoCertificate: return "no client certificate";
    case ChainError::Unparsable: return "client certificate does not parse";
    case ChainError::Expired: return "certificate expired";
    case ChainError::NotYetValid: return "certificate not yet valid";
    case ChainError::SelfSigned: return "self-signed certificate";
    case ChainError::UnknownCa: return "certificate not issued by a CA registered on the instance";
    case ChainError::Invalid: return "invalid certificate chain";
  }
  return "invalid certificate chain";
}

TrustStore::TrustStore(const std::vector<std::string>& ca_ders) {
  store_ = X509_STORE_new();
  if (!store_) return;
  for (const auto& d : ca_ders) {
    X509Ptr x = from_der(d);
    if (x && X509_STORE_add_cert(store_, x.get()) == 1) ++count_;
  }
  ERR_clear_error();
}

TrustStore::~TrustStore() { X509_STORE_free(store_); }

TrustStore::Verdict TrustStore::verify(std::span<const std::string> chain_der, int64_t now_ms) const {
  // A device that connects again presents the same chain: its verdict is kept
  // (this store lives as long as one snapshot of the instance's CAs) and holds
  // while every certificate of the verified chain is within its dates.
  std::string key;
  for (const auto& d : chain_der) {
    key += std::to_string(d.size());
    key += ':';
    key += d;
  }
  {
    std::lock_guard lk(mu_);
    if (auto it = cache_.find(key); it != cache_.end() && now_ms >= it->second.from_ms && now_ms <= it->second.until_ms)
      return it->second.verdict;
  }
  int64_t from_ms = 0, until_ms = 0;
  Verdict v = verify_uncached(chain_der, now_ms, &from_ms, &until_ms);
  if (v.error == ChainError::None) {
    std::lock_guard lk(mu_);
    if (cache_.size() >= kCacheEntries) cache_.clear();  // bounded; refilled by the next CONNECTs
    cache_[std::move(key)] = Cached{v, from_ms, until_ms};
  }
  return v;
}

TrustStore::Verdict TrustStore::verify_uncached(std::span<const std::string> chain_der, int64_t now_ms,
                                                int64_t* from_ms, int64_t* until_ms) const {
  Verdict v;
  if (chain_der.empty()) {
    v.error = ChainError::NoCertificate;
    v.why = to_string(v.error);
    return v;
  }
  X509Ptr leaf = from_der(chain_der[0]);
  if (!leaf) {
    v.error = ChainError::Unparsable;
    v.why = to_string(v.error);
    return v;
  }
  v.device = info_of(leaf.get(), false);
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  std::vector<X509Ptr> held;
  for (size_t i = 1; i < chain_der.size() && i < 10; ++i)
    if (X509Ptr x = from_der(chain_der[i])) {
      sk_X509_push(untrusted, x.get());
      held.push_back(std::move(x));
    }
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  bool ok = false;
  int err = X509_V_ERR_UNSPECIFIED;
  if (ctx && store_ && X509_STORE_CTX_init(ctx, store_, leaf.get(), untrusted) == 1) {
    X509_VERIFY_PARAM* p = X509_STORE_CTX_get0_param(ctx);
    // A registered intermediate is an anchor of its own; the time is the
    // service's clock (tests move it), not the C library's.
    X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_time(p, static_cast<time_t>(now_ms / 1000));
    X509_VERIFY_PARAM_set_depth(p, 8);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    ok = X509_verify_cert(ctx) == 1;
    err = X509_STORE_CTX_get_error(ctx);
    if (ok) {
      STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
      const int n = chain ? sk_X509_num(chain) : 0;
      if (n > 0) v.anchor_sn = serial_hex(sk_X509_value(chain, n - 1));
      *from_ms = 0;
      *until_ms = INT64_MAX;
      for (int i = 0; i < n; ++i) {
        X509* x = sk_X509_value(chain, i);
        *from_ms = std::max(*from_ms, ms_of(X509_get0_notBefore(x)));
        *until_ms = std::min(*until_ms, ms_of(X509_get0_notAfter(x)));
      }
    } else {
      const int depth = X509_STORE_CTX_get_error_depth(ctx);
      v.why = std::string(X509_verify_cert_error_string(err)) + " (at depth " + std::to_string(depth) + ")";
    }
  }
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);  // the certificates are freed by `held`
  ERR_clear_error();
  if (ok) return v;
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED: v.error = ChainError::Expired; break;
    case X509_V_ERR_CERT_NOT_YET_VALID: v.error = ChainError::NotYetValid; break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: v.error = ChainError::SelfSigned; break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: v.error = ChainError::UnknownCa; break;
    default: v.error = ChainError::Invalid; break;
  }
  v.why = std::string(to_string(v.error)) + ": " + v.why;
  return v;
}

}  // namespace sluice::mq::x509
