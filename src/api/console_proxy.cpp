#include "api/console_proxy.hpp"

#include <algorithm>
#include <cctype>

#include "iam/policy/values.hpp"

namespace sluice::api {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "1.2.3.4", "1.2.3.4:5678", "::1", "[::1]:443" -> the address alone.
std::string_view strip_port(std::string_view s) {
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    return close == std::string_view::npos ? std::string_view{} : s.substr(1, close - 1);
  }
  if (std::count(s.begin(), s.end(), ':') == 1) return s.substr(0, s.find(':'));
  return s;
}

// Every value of a header, in order (a header may be sent more than once).
std::string all_values(const HttpRequest& req, std::string_view name) {
  std::string out;
  for (const auto& [k, v] : req.headers) {
    if (k != name) continue;
    if (!out.empty()) out += ',';
    out += v;
  }
  return out;
}
}  // namespace

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    auto item = trim(s.substr(pos, comma - pos));
    if (!item.empty()) out.emplace_back(item);
    pos = comma + 1;
  }
  return out;
}

std::optional<std::string> TrustedProxies::parse(const std::vector<std::string>& entries, TrustedProxies& out) {
  TrustedProxies t;
  for (const auto& e : entries) {
    iam::policy::IpNet n;
    if (!iam::policy::parse_ip_net(trim(e), n)) return e;
    t.nets_.push_back(n);
  }
  out = std::move(t);
  return std::nullopt;
}

bool TrustedProxies::trusted(std::string_view addr) const {
  if (nets_.empty()) return false;
  iam::policy::IpNet a;
  if (!iam::policy::parse_ip_addr(addr, a)) return false;
  return std::any_of(nets_.begin(), nets_.end(), [&](const auto& n) { return iam::policy::ip_in_net(a, n); });
}

std::string TrustedProxies::client_address(const HttpRequest& req) const {
  if (!trusted(req.peer)) return req.peer;
  const auto hops = split_list(all_values(req, "x-forwarded-for"));
  std::string client = req.peer;
  // From the nearest hop outwards: each trusted hop vouches for the one before it.
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    const std::string_view addr = strip_port(*it);
    iam::policy::IpNet n;
    if (!iam::policy::parse_ip_addr(addr, n)) break;  // garbage: stay with the last hop we trust
    client = std::string(addr);
    if (!trusted(addr)) break;
  }
  return client;
}

bool TrustedProxies::secure(const HttpRequest& req) const {
  if (!trusted(req.peer)) return false;
  const auto protos = split_list(all_values(req, "x-forwarded-proto"));
  if (protos.empty()) return false;
  std::string last = protos.back();  // written by the nearest proxy, the one we trust
  std::transform(last.begin(), last.end(), last.begin(), [](unsigned char c) { return std::tolower(c); });
  return last == "https";
}

}  // namespace sluice::api
