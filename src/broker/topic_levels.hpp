#pragma once
// Splits a topic or filter into '/'-separated levels without allocating beyond
// the reused vector.
#include <string_view>
#include <vector>

namespace sluice::broker {

inline void split_levels(std::string_view s, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(start));
      return;
    }
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

// Heterogeneous lookup for maps keyed by std::string, probed with string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace sluice::broker
