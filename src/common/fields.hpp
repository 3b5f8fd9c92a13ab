#pragma once
// Length-prefixed fields, "<n>:<bytes>" one after another: how a value that
// crosses nodes or the store carries several strings without escaping (a will
// record in the cluster's bucket, a client's portable identity). Reading checks
// every length against what is left: a damaged or hostile value reads as
// false, never past its end.
#include <charconv>
#include <string>
#include <string_view>

namespace sluice::common {

inline void put_field(std::string& out, std::string_view f) {
  out += std::to_string(f.size());
  out += ':';
  out += f;
}

// Takes the next field off the front of `in`; false (and `in` unchanged) when
// there is none or its length does not fit.
inline bool take_field(std::string_view& in, std::string_view& f) {
  const size_t colon = in.find(':');
  if (colon == std::string_view::npos) return false;
  size_t n = 0;
  auto [end, ec] = std::from_chars(in.data(), in.data() + colon, n);
  if (ec != std::errc() || end != in.data() + colon || n > in.size() - colon - 1) return false;
  f = in.substr(colon + 1, n);
  in.remove_prefix(colon + 1 + n);
  return true;
}

}  // namespace sluice::common
