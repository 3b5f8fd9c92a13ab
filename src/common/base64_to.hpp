#pragma once
// Base64 (RFC 4648, with padding) written straight into a caller's buffer, for
// hot paths: a rule's JSON envelope encodes every payload it sends (issue 19).
// On x86-64 with AVX2 or SSSE3 (checked once at start), 24 or 12 bytes become
// 32 or 16 characters per step (base64_simd.cpp: ~25 instructions a step); the rest, and
// other machines, two characters per table lookup (12 bits), so three bytes
// cost two loads and two stores. For a 64-byte payload (callgrind): OpenSSL's
// EVP_EncodeBlock ~690 instructions, the pair table ~420, with SSSE3 ~110.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace sluice::common {

constexpr size_t base64_size(size_t n) { return 4 * ((n + 2) / 3); }

namespace detail {
struct Base64Pairs {
  char p[4096][2];
  constexpr Base64Pairs() : p{} {
    constexpr char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (unsigned i = 0; i < 4096; ++i) {
      p[i][0] = a[i >> 6];
      p[i][1] = a[i & 63];
    }
  }
};
inline constexpr Base64Pairs kBase64Pairs;

// Whole 12-byte blocks of `s` (while 16 bytes are readable: each step loads
// 16) encoded into `out` with AVX2 / SSSE3; returns the bytes consumed (a
// multiple of 12; 0 where neither is there or n < 16). base64_simd.cpp.
size_t base64_blocks_simd(char* out, const unsigned char* s, size_t n);

// The table path from byte `i` on; returns the characters written.
inline size_t base64_tail(char* out, const unsigned char* s, size_t n, size_t i) {
  char* o = out;
  for (; i + 3 <= n; i += 3, o += 4) {
    const uint32_t v = uint32_t(s[i]) << 16 | uint32_t(s[i + 1]) << 8 | s[i + 2];
    std::memcpy(o, kBase64Pairs.p[v >> 12], 2);
    std::memcpy(o + 2, kBase64Pairs.p[v & 0xfff], 2);
  }
  if (i < n) {
    const uint32_t v = uint32_t(s[i]) << 16 | (i + 1 < n ? uint32_t(s[i + 1]) << 8 : 0);
    std::memcpy(o, kBase64Pairs.p[v >> 12], 2);
    o[2] = i + 1 < n ? kBase64Pairs.p[v & 0xfff][0] : '=';
    o[3] = '=';
    o += 4;
  }
  return static_cast<size_t>(o - out);
}
}  // namespace detail

// Writes base64_size(in.size()) characters at `out`; returns that count.
inline size_t base64_to(char* out, std::string_view in) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  const size_t done = n >= 16 ? detail::base64_blocks_simd(out, s, n) : 0;
  return done / 3 * 4 + detail::base64_tail(out + done / 3 * 4, s, n, done);
}

// The table path alone (tests compare the two).
inline size_t base64_to_portable(char* out, std::string_view in) {
  return detail::base64_tail(out, reinterpret_cast<const unsigned char*>(in.data()), in.size(), 0);
}

}  // namespace sluice::common
