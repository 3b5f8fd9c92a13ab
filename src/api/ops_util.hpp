#pragma once
// Helpers shared by the product files: paging in the cloud's two styles.
#include <cstddef>
#include <string>
#include <vector>

#include "api/rpc.hpp"

namespace sluice::api {

struct Page {
  size_t begin = 0, end = 0;
};

// RAM style: Marker (opaque: the offset) + MaxItems (1..1000, default 100).
// Writes "IsTruncated" and, when truncated, "Marker".
inline Page marker_page(Call& c, size_t total, JsonWriter& w) {
  int64_t max = c.opt_int("MaxItems", 100, 1, 1000);
  size_t begin = 0;
  if (auto m = c.opt("Marker"); m && !m->empty()) {
    char* end = nullptr;
    long long v = std::strtoll(m->c_str(), &end, 10);
    if (*end || v < 0) fail("InvalidParameter.Marker", 400, "The Marker \"" + *m + "\" is not one this API returned.");
    begin = static_cast<size_t>(v);
  }
  if (begin > total) begin = total;
  size_t end = std::min(total, begin + static_cast<size_t>(max));
  w.field("IsTruncated", end < total);
  if (end < total) w.field("Marker", std::to_string(end));
  return {begin, end};
}

// A whole RAM list reply: the page Marker and MaxItems ask for, wrapped the cloud's
// way ("Users":{"User":[...]}), each item written by write_one(w, item).
template <class T, class Write>
void marker_list(Call& c, const std::vector<T>& all, const char* outer, const char* inner, Write&& write_one) {
  auto& w = c.out();
  auto pg = marker_page(c, all.size(), w);
  w.begin_wrapped(outer, inner);
  for (size_t i = pg.begin; i < pg.end; ++i) write_one(w, all[i]);
  w.end_wrapped();
}

// ResourceManager / OnsMqtt style: PageNumber (from 1) + PageSize. Writes
// TotalCount, PageNumber and PageSize.
inline Page number_page(Call& c, size_t total, JsonWriter& w, int64_t def_size = 10, int64_t max_size = 100,
                        const char* number_name = "PageNumber", const char* size_name = "PageSize") {
  int64_t no = c.opt_int(number_name, 1, 1, 1'000'000'000);
  int64_t size = c.opt_int(size_name, def_size, 1, max_size);
  size_t begin = std::min(total, static_cast<size_t>((no - 1) * size));
  size_t end = std::min(total, begin + static_cast<size_t>(size));
  w.field("TotalCount", total);
  w.field(number_name, no);
  w.field(size_name, size);
  return {begin, end};
}

}  // namespace sluice::api
