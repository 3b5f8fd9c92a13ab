#pragma once
// Splits a topic or filter into '/'-separated levels without allocating beyond
// the reused vector.
#include <string_view>
#include <vector>

namespace sluice::broker {

// A plain byte loop: topics are short, and a memchr call per level costs more
// than it saves below a few dozen bytes a level.
inline void split_levels(std::string_view s, std::vector<std::string_view>& out) {
  out.clear();
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* start = p;
  for (; p != end; ++p) {
    if (*p == '/') {
      out.emplace_back(start, static_cast<size_t>(p - start));
      start = p + 1;
    }
  }
  out.emplace_back(start, static_cast<size_t>(end - start));
}

// Heterogeneous lookup for maps keyed by std::string, probed with string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace sluice::broker
