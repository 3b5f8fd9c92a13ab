// UTF-8 validation as MQTT requires (spec 1.5.4): well-formed, no surrogates,
// no overlongs, no U+0000. Topics and most strings are ASCII, so both
// scanners test 8 bytes at a time and decode only the words that need it.
#include <cstdint>
#include <cstring>

#include "mqtt/topic.hpp"
#include "mqtt/wire.hpp"

namespace sluice::mqtt {
namespace {

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

inline uint64_t load8(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
// Non-zero iff some byte of w is 0x00 or >= 0x80: (b - 1) sets the high bit
// for 0x00 (and a borrow only spreads upward from a byte that is already a
// hit), `| w` adds the bytes >= 0x80. Exact as a boolean.
inline uint64_t zero_or_high(uint64_t w) { return ((w - kOnes) | w) & kHighs; }
// Also hits '#' (0x23) and '+' (0x2B): they differ only in bit 3, so
// (b | 0x08) ^ 0x2B is zero exactly for those two.
inline uint64_t zero_high_or_wildcard(uint64_t w) {
  const uint64_t x = (w | (kOnes * 0x08)) ^ (kOnes * 0x2B);
  return ((w - kOnes) | w | (x - kOnes)) & kHighs;
}

inline bool cont(uint8_t b) { return (b & 0xc0) == 0x80; }

// Length of the multi-byte sequence at p (lead byte >= 0x80), 0 if invalid.
// The second-byte ranges exclude overlongs (E0, F0), surrogates (ED) and
// code points above U+10FFFF (F4).
size_t multibyte(const uint8_t* p, size_t left, bool strict) {
  const uint8_t b = p[0];
  if (b >= 0xc2 && b <= 0xdf) {
    if (left < 2 || !cont(p[1])) return 0;
    if (strict && b == 0xc2 && p[1] < 0xa0) return 0;  // U+0080..U+009F controls
    return 2;
  }
  if (b >= 0xe0 && b <= 0xef) {
    if (left < 3) return 0;
    const uint8_t lo = b == 0xe0 ? 0xa0 : 0x80;
    const uint8_t hi = b == 0xed ? 0x9f : 0xbf;
    if (p[1] < lo || p[1] > hi || !cont(p[2])) return 0;
    return 3;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    if (left < 4) return 0;
    const uint8_t lo = b == 0xf0 ? 0x90 : 0x80;
    const uint8_t hi = b == 0xf4 ? 0x8f : 0xbf;
    if (p[1] < lo || p[1] > hi || !cont(p[2]) || !cont(p[3])) return 0;
    return 4;
  }
  return 0;  // continuation byte as lead, C0/C1 overlong leads, F5..FF
}

}  // namespace

bool valid_utf8(std::string_view s, bool strict) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t* end = p + s.size();
  const bool words = !strict && s.size() >= 8;
  while (p < end) {
    if (words) {
      if (end - p >= 8) {
        if (!zero_or_high(load8(p))) {
          p += 8;
          continue;
        }
      } else if (!zero_or_high(load8(end - 8))) {
        return true;  // the tail, read as the (overlapping) last word, is plain ASCII
      }
    }
    const uint8_t b = *p;
    if (b < 0x80) {
      if (b == 0) return false;
      if (strict && (b < 0x20 || b == 0x7f)) return false;
      ++p;
      continue;
    }
    const size_t n = multibyte(p, size_t(end - p), strict);
    if (!n) return false;
    p += n;
  }
  return true;
}

namespace wire {

NameCheck check_topic_name(std::string_view topic) {
  if (topic.empty()) return NameCheck::Empty;
  const auto* p = reinterpret_cast<const uint8_t*>(topic.data());
  const uint8_t* end = p + topic.size();
  const bool words = topic.size() >= 8;
  bool wildcard = false;
  while (p < end) {
    if (words) {
      if (end - p >= 8) {
        if (!zero_high_or_wildcard(load8(p))) {
          p += 8;
          continue;
        }
      } else if (!zero_high_or_wildcard(load8(end - 8))) {
        break;  // the rest is plain ASCII without wildcards
      }
    }
    const uint8_t b = *p;
    if (b < 0x80) {
      if (b == 0) return NameCheck::BadUtf8;
      if (b == '+' || b == '#') wildcard = true;
      ++p;
      continue;
    }
    const size_t n = multibyte(p, size_t(end - p), false);
    if (!n) return NameCheck::BadUtf8;
    p += n;
  }
  return wildcard ? NameCheck::Wildcard : NameCheck::Ok;
}

}  // namespace wire
}  // namespace sluice::mqtt
