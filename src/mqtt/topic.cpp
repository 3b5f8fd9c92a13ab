// Topic names, filters, shared subscriptions and matching (spec 4.7, 4.8.2).
#include "mqtt/topic.hpp"

#include "mqtt/wire.hpp"

namespace sluice::mqtt {
namespace {

constexpr std::string_view kSharePrefix = "$share/";

// Filter rules without the $share handling: '+' is a whole level, '#' is the
// whole last level. UTF-8 is checked by the caller.
bool valid_plain_filter(std::string_view f) {
  if (f.empty()) return false;
  size_t start = 0;
  for (;;) {
    size_t end = f.find('/', start);
    const bool last = end == std::string_view::npos;
    if (last) end = f.size();
    const std::string_view level = f.substr(start, end - start);
    if (level.find_first_of("+#") != std::string_view::npos) {
      if (level.size() != 1) return false;
      if (level[0] == '#' && !last) return false;
    }
    if (last) return true;
    start = end + 1;
  }
}

}  // namespace

bool valid_topic_name(std::string_view topic) {
  return topic.size() <= 0xffff && wire::check_topic_name(topic) == wire::NameCheck::Ok;
}

bool valid_topic_filter(std::string_view filter) {
  if (filter.empty() || filter.size() > 0xffff || !valid_utf8(filter)) return false;
  if (!filter.starts_with(kSharePrefix)) return valid_plain_filter(filter);
  std::string_view group, inner;
  if (!parse_shared(filter, group, inner)) return false;  // "$share/g" has no filter
  if (group.empty() || group.find_first_of("+#") != std::string_view::npos) return false;
  return valid_plain_filter(inner);
}

bool parse_shared(std::string_view filter, std::string_view& group, std::string_view& inner) {
  if (!filter.starts_with(kSharePrefix)) return false;
  const std::string_view rest = filter.substr(kSharePrefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  group = rest.substr(0, slash);
  inner = rest.substr(slash + 1);
  return true;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  // Wildcards at the first level never match "$SYS/..." and the like (4.7.2).
  if (!topic.empty() && topic[0] == '$' && !filter.empty() && (filter[0] == '+' || filter[0] == '#')) return false;
  size_t f = 0, t = 0;
  for (;;) {
    size_t fe = filter.find('/', f);
    if (fe == std::string_view::npos) fe = filter.size();
    const std::string_view fl = filter.substr(f, fe - f);
    if (fl == "#") return true;  // this level and everything below
    size_t te = topic.find('/', t);
    if (te == std::string_view::npos) te = topic.size();
    const std::string_view tl = topic.substr(t, te - t);
    if (fl != "+" && fl != tl) return false;
    const bool f_last = fe == filter.size();
    const bool t_last = te == topic.size();
    if (f_last || t_last) {
      if (f_last && t_last) return true;
      // "a/#" also matches its parent "a" (4.7.1.2).
      return t_last && filter.substr(fe + 1) == "#";
    }
    f = fe + 1;
    t = te + 1;
  }
}

}  // namespace sluice::mqtt
