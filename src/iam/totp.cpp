// RFC 6238 TOTP / RFC 4226 HOTP with OpenSSL's HMAC-SHA1 (common::hmac_sha1).
#include "iam/totp.hpp"

#include <cctype>

#include "common/crypto.hpp"

namespace sluice::iam::totp {

namespace {
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string pct(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '@') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}
}  // namespace

std::string base32_encode(std::string_view bytes) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    buf = (buf << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buf >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buf << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == ' ') continue;
    char u = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    auto i = kAlphabet.find(u);
    if (i == std::string_view::npos) return std::nullopt;
    buf = (buf << 5) | static_cast<uint32_t>(i);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buf >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

std::string hotp(std::string_view seed, uint64_t counter, int digits) {
  std::string msg(8, '\0');
  for (int i = 7; i >= 0; --i) {
    msg[static_cast<size_t>(i)] = static_cast<char>(counter & 0xff);
    counter >>= 8;
  }
  const std::string mac = common::hmac_sha1(seed, msg);
  const size_t off = static_cast<unsigned char>(mac[mac.size() - 1]) & 0x0f;
  const uint32_t bin = (static_cast<uint32_t>(static_cast<unsigned char>(mac[off]) & 0x7f) << 24) |
                       (static_cast<uint32_t>(static_cast<unsigned char>(mac[off + 1])) << 16) |
                       (static_cast<uint32_t>(static_cast<unsigned char>(mac[off + 2])) << 8) |
                       static_cast<uint32_t>(static_cast<unsigned char>(mac[off + 3]));
  uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  std::string s = std::to_string(bin % mod);
  return std::string(static_cast<size_t>(digits) - s.size(), '0') + s;
}

std::optional<int64_t> verify(std::string_view seed, std::string_view code, int64_t now, int64_t last_used_step) {
  if (code.size() != static_cast<size_t>(kDigits)) return std::nullopt;
  for (char c : code)
    if (c < '0' || c > '9') return std::nullopt;
  const int64_t step = now / kStepSeconds;
  std::optional<int64_t> found;
  // Every candidate is computed and compared, so the time taken does not say which matched.
  for (int64_t s = step - 1; s <= step + 1; ++s) {
    if (s < 0) continue;
    const bool eq = common::constant_time_equal(hotp(seed, static_cast<uint64_t>(s)), code);
    if (eq && s > last_used_step && !found) found = s;
  }
  return found;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view base32_seed) {
  return "otpauth://totp/" + pct(issuer) + ":" + pct(account) + "?secret=" + std::string(base32_seed) +
         "&issuer=" + pct(issuer) + "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace sluice::iam::totp
