// Typed condition values. Hand-written parsers: strict (no locale, no leading
// blanks, full consumption), allocation-free, so they can run per decision.
#include "iam/policy/values.hpp"

#include <charconv>
#include <cmath>

namespace sluice::iam::policy {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at s[pos]; advances pos.
bool digits(std::string_view s, size_t& pos, int n, int& out) {
  if (pos + static_cast<size_t>(n) > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + static_cast<size_t>(i)];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += static_cast<size_t>(n);
  out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int k[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : k[m - 1];
}

}  // namespace

bool parse_number(std::string_view s, double& out) {
  // from_chars accepts "inf"/"nan" and hex forms; restrict to a plain decimal.
  if (s.empty() || s.size() > 64) return false;
  size_t i = 0;
  if (s[i] == '-' || s[i] == '+') ++i;
  if (i >= s.size() || !(is_digit(s[i]) || s[i] == '.')) return false;
  const char* first = s.data() + (s[0] == '+' ? 1 : 0);
  const char* last = s.data() + s.size();
  double v = 0;
  auto [p, ec] = std::from_chars(first, last, v, std::chars_format::general);
  if (ec != std::errc() || p != last || !std::isfinite(v)) return false;
  out = v;
  return true;
}

bool parse_date(std::string_view s, int64_t& ms_out) {
  if (s.empty() || s.size() > 40) return false;
  // Epoch seconds: digits only (RAM accepts both forms).
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && is_digit(c);
  if (all_digits) {
    if (s.size() > 12) return false;  // keeps the ms value far from overflow
    int64_t v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    ms_out = v * 1000;
    return true;
  }
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  if (!digits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-') return false;
  if (!digits(s, pos, 2, mo) || pos >= s.size() || s[pos++] != '-') return false;
  if (!digits(s, pos, 2, d)) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return false;
  int64_t offset_min = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't') return false;
    ++pos;
    if (!digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':') return false;
    if (!digits(s, pos, 2, mi)) return false;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!digits(s, pos, 2, sec)) return false;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t start = pos;
        int scale = 100;
        while (pos < s.size() && is_digit(s[pos])) {
          ms += (s[pos] - '0') * scale;  // digits beyond milliseconds are dropped
          scale /= 10;
          ++pos;
        }
        if (pos == start) return false;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return false;  // 60: leap second, as ISO allows
    if (pos < s.size()) {
      char z = s[pos++];
      if (z == 'Z' || z == 'z') {
        if (pos != s.size()) return false;
      } else if (z == '+' || z == '-') {
        int oh = 0, om = 0;
        if (!digits(s, pos, 2, oh)) return false;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (!digits(s, pos, 2, om) || pos != s.size()) return false;
        if (oh > 23 || om > 59) return false;
        offset_min = (oh * 60 + om) * (z == '-' ? -1 : 1);
      } else {
        return false;
      }
    }
  }
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  ms_out = secs * 1000 + ms;
  return true;
}

bool parse_bool(std::string_view s, bool& out) {
  auto ieq = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      char c = a[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != b[i]) return false;
    }
    return true;
  };
  if (ieq(s, "true")) { out = true; return true; }
  if (ieq(s, "false")) { out = false; return true; }
  return false;
}

}  // namespace sluice::iam::policy
