// `*` (any run, possibly empty) and `?` (exactly one character) matching.
//
// Fast path first: the literal prefix (before the first wildcard) must start the
// text and the literal suffix (after the last wildcard) must end it — compared from
// the end, where ARNs differ. Most non-matches stop there in a few compares. The
// middle is matched segment by segment (see match_middle): no backtracking,
// never exponential ("*a*a*a*b").
#include "iam/policy/policy.hpp"

namespace sluice::iam::policy {

namespace {

inline char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
inline bool eq(char a, char b, bool ic) { return a == b || (ic && lower(a) == lower(b)); }
inline bool wild(char c) { return c == '*' || c == '?'; }
// A UTF-8 continuation byte: `?` consumes a whole code point, not a byte.
inline bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Matches `seg` (literals and `?`, no `*`) at s[pos..]; returns the end or npos.
size_t seg_at(std::string_view seg, std::string_view s, size_t pos, bool ic) {
  for (char c : seg) {
    if (pos >= s.size()) return std::string_view::npos;
    if (c == '?') {
      ++pos;
      while (pos < s.size() && continuation(s[pos])) ++pos;
    } else if (eq(c, s[pos], ic)) {
      ++pos;
    } else {
      return std::string_view::npos;
    }
  }
  return pos;
}

// The pattern split at its `*`s: the first segment is anchored at the start, the
// last at the end, and each one between is taken at its leftmost occurrence.
// Leftmost is optimal: a segment spans a fixed number of characters, so the
// earliest start also gives the earliest end and leaves the most text to the rest.
bool match_middle(std::string_view p, std::string_view s, bool ic) {
  size_t star = p.find('*');
  if (star == std::string_view::npos) return seg_at(p, s, 0, ic) == s.size();
  size_t cur = seg_at(p.substr(0, star), s, 0, ic);
  if (cur == std::string_view::npos) return false;
  size_t last_star = p.rfind('*');
  for (size_t a = star; a < last_star;) {
    size_t b = p.find('*', a + 1);
    std::string_view seg = p.substr(a + 1, b - a - 1);
    a = b;
    if (seg.empty()) continue;
    size_t end = std::string_view::npos;
    const bool skip = !ic && seg[0] != '?';  // jump to candidates with memchr
    for (size_t pos = cur; pos < s.size(); ++pos) {
      if (skip) {
        pos = s.find(seg[0], pos);
        if (pos == std::string_view::npos) break;
      } else if (continuation(s[pos])) {
        continue;
      }
      end = seg_at(seg, s, pos, ic);
      if (end != std::string_view::npos) break;
    }
    if (end == std::string_view::npos) return false;
    cur = end;
  }
  std::string_view tail = p.substr(last_star + 1);
  if (tail.empty()) return true;
  for (size_t pos = cur; pos < s.size(); ++pos)  // tail anchored at the end
    if (!continuation(s[pos]) && seg_at(tail, s, pos, ic) == s.size()) return true;
  return false;
}

}  // namespace

bool wildcard_match(std::string_view p, std::string_view s, bool ignore_case) {
  // Literal prefix, compared while it is found: a different action or ARN usually
  // stops here within a few characters.
  size_t i = 0;
  while (i < p.size() && !wild(p[i])) {
    if (i >= s.size() || !eq(p[i], s[i], ignore_case)) return false;
    ++i;
  }
  if (i == p.size()) return s.size() == p.size();
  // Literal suffix, compared from the end (where ARNs differ) while it is found;
  // it must not reach into the part of s the prefix took.
  size_t k = 0;
  while (!wild(p[p.size() - 1 - k])) {  // stops at the wildcard at p[i] at the latest
    if (s.size() - k <= i || !eq(p[p.size() - 1 - k], s[s.size() - 1 - k], ignore_case)) return false;
    ++k;
  }
  // Both cuts fall on code-point boundaries: the literals are whole characters.
  return match_middle(p.substr(i, p.size() - k - i), s.substr(i, s.size() - k - i), ignore_case);
}

}  // namespace sluice::iam::policy
