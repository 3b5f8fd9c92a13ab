#pragma once
// A JSON string literal: `s` quoted and escaped (", \, control characters),
// appended to `out`. Bytes >= 0x80 pass through (the caller's text is UTF-8).
// One escaper for every layer that writes JSON by hand (api's JsonWriter,
// the rules' target bodies).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice::common {

void json_quote_to(std::string& out, std::string_view s);

// True when `s` needs no escaping in a JSON string (no ", \ or byte < 0x20):
// eight bytes a step, for the topics of a rule's envelope (almost always plain).
inline bool json_plain(std::string_view s) {
  constexpr uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  const auto bad = [](uint64_t w) {
    const uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    // A byte below 0x20, or a zero byte in q or b (exact: a borrow starts only at such a byte).
    return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
  };
  const char* p = s.data();
  size_t n = s.size();
  uint64_t w;
  if (n < 8) {
    w = ones * 'a';  // padding that needs no escape
    std::memcpy(&w, p, n);
    return !bad(w);
  }
  for (; n > 8; p += 8, n -= 8) {
    std::memcpy(&w, p, 8);
    if (bad(w)) return false;
  }
  std::memcpy(&w, s.data() + s.size() - 8, 8);  // the last 8 bytes (overlapping the step before)
  return !bad(w);
}

}  // namespace sluice::common
