#pragma once
// Base64 (RFC 4648, with padding) written straight into a caller's buffer, for
// hot paths: a rule's JSON envelope encodes every payload it sends (issue 19).
// Two characters per table lookup (12 bits), so three bytes cost two loads and
// two stores; OpenSSL's EVP_EncodeBlock, a character a lookup with its own
// bookkeeping, was ~690 instructions for a 64-byte payload (callgrind).
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
}  // namespace detail

// Writes base64_size(in.size()) characters at `out`; returns that count.
inline size_t base64_to(char* out, std::string_view in) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  char* o = out;
  size_t i = 0;
  for (; i + 3 <= n; i += 3, o += 4) {
    const uint32_t v = uint32_t(s[i]) << 16 | uint32_t(s[i + 1]) << 8 | s[i + 2];
    std::memcpy(o, detail::kBase64Pairs.p[v >> 12], 2);
    std::memcpy(o + 2, detail::kBase64Pairs.p[v & 0xfff], 2);
  }
  if (i < n) {
    const uint32_t v = uint32_t(s[i]) << 16 | (i + 1 < n ? uint32_t(s[i + 1]) << 8 : 0);
    std::memcpy(o, detail::kBase64Pairs.p[v >> 12], 2);
    o[2] = i + 1 < n ? detail::kBase64Pairs.p[v & 0xfff][0] : '=';
    o[3] = '=';
    o += 4;
  }
  return static_cast<size_t>(o - out);
}

}  // namespace sluice::common
