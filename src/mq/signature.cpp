#include "mq/signature.hpp"

#include <vector>

#include "common/crypto.hpp"

namespace sluice::mq {

std::string sign_client_id(std::string_view secret, std::string_view client_id) {
  return common::base64_encode(common::hmac_sha1(secret, client_id));
}

namespace {
std::vector<std::string_view> levels(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find('/', start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}
}  // namespace

bool filter_matches(std::string_view filter, std::string_view topic) {
  if (filter == topic) return true;
  // $-topics are not matched by a wildcard at the first level.
  if (!topic.empty() && topic[0] == '$' && !filter.empty() && (filter[0] == '+' || filter[0] == '#')) return false;
  auto f = levels(filter), t = levels(topic);
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // also "a/#" matches "a"
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

bool filter_covers(std::string_view outer, std::string_view inner) {
  if (outer == inner) return true;
  auto o = levels(outer), in = levels(inner);
  for (size_t i = 0; i < o.size(); ++i) {
    if (o[i] == "#") return true;
    if (i >= in.size()) return false;
    if (in[i] == "#") return false;  // inner matches more than outer's single level
    if (o[i] == "+") continue;
    if (in[i] == "+" || o[i] != in[i]) return false;
  }
  return o.size() == in.size();
}

std::string_view strip_shared(std::string_view filter) {
  if (filter.rfind("$share/", 0) == 0) {
    auto p = filter.find('/', 7);
    return p == std::string_view::npos ? std::string_view{} : filter.substr(p + 1);
  }
  return filter;
}

std::string_view parent_of(std::string_view t) {
  t = strip_shared(t);
  return t.substr(0, t.find('/'));
}

std::string_view group_of_client(std::string_view client_id) {
  auto p = client_id.find("@@@");
  return p == std::string_view::npos ? std::string_view{} : client_id.substr(0, p);
}

bool valid_group_id(std::string_view g) {
  if (g.size() < 7 || g.size() > 64) return false;
  if (g.rfind("GID_", 0) != 0 && g.rfind("GID-", 0) != 0) return false;
  for (char c : g)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

}  // namespace sluice::mq
