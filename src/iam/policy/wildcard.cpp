// `*` (any run, possibly empty) and `?` (exactly one character) matching.
// Greedy with a single backtrack point: linear in the common case and
// O(|p|*|s|) at worst, never exponential (fuzzed patterns like "*a*a*a*b").
#include "iam/policy/policy.hpp"

namespace sluice::iam::policy {

namespace {
inline char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
// A UTF-8 continuation byte: `?` consumes a whole code point, not a byte.
inline bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
}  // namespace

bool wildcard_match(std::string_view p, std::string_view s, bool ignore_case) {
  size_t pi = 0, si = 0;
  size_t star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      char pc = p[pi];
      if (pc == '*') {
        star = pi++;
        mark = si;
        continue;
      }
      if (pc == '?') {
        ++pi;
        ++si;
        while (si < s.size() && continuation(s[si])) ++si;
        continue;
      }
      if (pc == s[si] || (ignore_case && lower(pc) == lower(s[si]))) {
        ++pi;
        ++si;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    // Let the last star absorb one more character and retry after it.
    // Stay on code-point boundaries so a later `?` sees whole characters.
    pi = star + 1;
    ++mark;
    while (mark < s.size() && continuation(s[mark])) ++mark;
    si = mark;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace sluice::iam::policy
