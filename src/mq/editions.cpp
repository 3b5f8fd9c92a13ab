#include "mq/editions.hpp"

#include <algorithm>

#include "mq/settings.hpp"

namespace sluice::mq {

namespace {
// The limits that differ by edition (SPEC §1, docs/spec.md "Editions"). 0 is
// "no limit of the instance's own": the server's ([mqtt] max_connections).
struct EditionLimits {
  const char* name;
  uint32_t max_connections;
  uint32_t max_instance_messages_per_second;
  uint32_t max_messages_per_second;  // per client
};
// basic: the cloud's smallest Basic connection specification (1,000) and a TPS
// to match; per client the 20 messages/s the cloud's limits page recommends.
// platinum: the cloud's smallest Enterprise Platinum connection specification
// (100,000) and a TPS to match. professional (the default) and serverless are
// sold by a specification chosen at purchase: no figure of their own.
constexpr EditionLimits kEditions[] = {
    {"basic", 1000, 1000, 20},
    {"professional", 0, 0, 0},
    {"platinum", 100000, 100000, 0},
    {"serverless", 0, 0, 0},
};

const EditionLimits* find(std::string_view edition) {
  for (const auto& e : kEditions)
    if (edition == e.name) return &e;
  return nullptr;
}
}  // namespace

bool known_edition(std::string_view edition) { return find(edition) != nullptr; }

InstanceSettings edition_defaults(std::string_view edition, const InstanceSettings& base) {
  // Message size (64 KB), subscriptions per client (30), topic and client id
  // lengths (64) are the same for every edition (the cloud's limits page):
  // they stay as `base` has them.
  InstanceSettings s = base;
  const EditionLimits* e = find(edition);
  if (!e) e = find("professional");
  s.max_connections = e->max_connections;
  s.max_instance_messages_per_second = e->max_instance_messages_per_second;
  s.max_messages_per_second = e->max_messages_per_second;
  return s;
}

std::vector<std::string> differing_settings(const InstanceSettings& a, const InstanceSettings& b) {
  std::vector<std::string> out;
  for (const auto& st : instance_settings()) {
    const bool same = st.number ? a.*(st.number) == b.*(st.number) : a.*(st.flag) == b.*(st.flag);
    if (!same) out.emplace_back(st.name);
  }
  return out;
}

InstanceSettings with_settings(InstanceSettings to, const InstanceSettings& from, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    const Setting* st = find_setting(n);
    if (!st) continue;
    if (st->number) to.*(st->number) = from.*(st->number);
    else to.*(st->flag) = from.*(st->flag);
  }
  return to;
}

std::vector<std::string> merge_names(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

}  // namespace sluice::mq
