#pragma once
// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1,
// 30-second steps, 6 digits, as the authenticator apps the cloud's virtual MFA
// devices pair with. Seeds travel as RFC 4648 Base32 (no padding).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::iam::totp {

inline constexpr int64_t kStepSeconds = 30;
inline constexpr int kDigits = 6;

std::string base32_encode(std::string_view bytes);
// nullopt for a character outside A-Z2-7 (case-insensitive; '=' padding and spaces ignored).
std::optional<std::string> base32_decode(std::string_view text);

// HOTP(seed, counter) truncated to `digits` decimal digits, zero-padded.
std::string hotp(std::string_view seed, uint64_t counter, int digits = kDigits);
// The code for the step that holds Unix time `t`.
inline std::string code_at(std::string_view seed, int64_t t, int digits = kDigits) {
  return hotp(seed, static_cast<uint64_t>(t / kStepSeconds), digits);
}

// The step whose code `code` is, looked for at now-1, now and now+1 steps (the
// clock skew an authenticator app may have), and only among steps after
// `last_used_step` so that a code is accepted once. Compared in constant time.
// nullopt: no such step (wrong, stale, replayed, or not six digits).
std::optional<int64_t> verify(std::string_view seed, std::string_view code, int64_t now, int64_t last_used_step);

// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer> (Key URI Format).
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view base32_seed);

}  // namespace sluice::iam::totp
