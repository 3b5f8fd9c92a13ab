#include "common/egress.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>
#include <memory>

namespace sluice::common {

namespace {

std::string text_of(const IpNet& ip) {
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.addr.data(), buf, sizeof buf);
  return buf;
}

// The kinds refused unless allowed: what a tenant must not reach through us.
const char* refused_kind(const IpNet& ip) {
  const auto& b = ip.addr;
  if (!ip.v6) {
    if (b[0] == 127) return "a loopback address";
    if (b[0] == 0) return "an unspecified address";
    if (b[0] == 169 && b[1] == 254) return "a link-local address (cloud metadata services live there)";
    if (b[0] >= 224 && b[0] <= 239) return "a multicast address";
    if (b[0] >= 240) return "a reserved or broadcast address";
    return nullptr;
  }
  static const std::array<uint8_t, 16> zero{};
  std::array<uint8_t, 16> one{};
  one[15] = 1;
  if (b == one) return "a loopback address";
  if (b == zero) return "an unspecified address";
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return "a link-local address";
  if (b[0] == 0xFF) return "a multicast address";
  return nullptr;
}

std::vector<EgressAddress> lookup(const std::string& host, int port, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return {};
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> own(res, ::freeaddrinfo);
  std::vector<EgressAddress> out;
  for (addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    const auto ip = ip_of(a->ai_addr);
    if (!ip) continue;
    EgressAddress e;
    std::memcpy(&e.addr, a->ai_addr, a->ai_addrlen);
    e.len = a->ai_addrlen;
    e.text = text_of(*ip);
    out.push_back(std::move(e));
  }
  return out;
}

int port_of(const sockaddr* a) {
  if (a->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(a)->sin_port);
  if (a->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(a)->sin6_port);
  return 0;
}

EgressPolicy g_policy;

}  // namespace

std::optional<std::string> EgressPolicy::allow(const std::vector<std::string>& blocks) {
  std::vector<IpNet> parsed;
  for (const auto& b : blocks) {
    IpNet net;
    if (!parse_ip_net(b, net)) return b;
    parsed.push_back(net);
  }
  allowed_.insert(allowed_.end(), parsed.begin(), parsed.end());
  return std::nullopt;
}

void EgressPolicy::reserve(const std::string& host, int port) {
  std::string ignored;
  reserved_.push_back({host, port, lookup(host, port, ignored)});
}

std::string EgressPolicy::refusal(const sockaddr* a, int port) const {
  const auto ip = ip_of(a);
  if (!ip) return "not an IP address";
  for (const auto& r : reserved_)
    for (const auto& e : r.addrs) {
      const auto rip = ip_of(reinterpret_cast<const sockaddr*>(&e.addr));
      if (rip && rip->v6 == ip->v6 && rip->addr == ip->addr && r.port == port)
        return text_of(*ip) + ":" + std::to_string(port) + " is this server's own " + r.host + ":" +
               std::to_string(r.port) + " (the cluster's NATS or control store), never a rule's";
    }
  const char* kind = refused_kind(*ip);
  if (!kind) return {};
  for (const auto& net : allowed_)
    if (ip_in_net(*ip, net)) return {};
  return text_of(*ip) + " is " + kind +
         "; a rule may connect there only if the operator allows it ([rules] allowed_target_networks)";
}

std::vector<EgressAddress> EgressPolicy::resolve(const std::string& host, int port, std::string& error) const {
  bool refused = false;
  return resolve(host, port, error, refused);
}

std::vector<EgressAddress> EgressPolicy::resolve(const std::string& host, int port, std::string& error,
                                                 bool& refused) const {
  refused = false;
  for (const auto& r : reserved_)
    if (r.host == host && r.port == port) {
      refused = true;
      error = host + ":" + std::to_string(port) + " is this server's own (the cluster's NATS or control store), never a rule's";
      return {};
    }
  std::vector<EgressAddress> found = lookup(host, port, error);
  std::vector<EgressAddress> out;
  std::string first;
  for (auto& e : found) {
    std::string why = refusal(reinterpret_cast<const sockaddr*>(&e.addr), port_of(reinterpret_cast<const sockaddr*>(&e.addr)));
    if (why.empty()) out.push_back(std::move(e));
    else if (first.empty()) first = std::move(why);
  }
  if (out.empty() && !found.empty()) {
    refused = true;
    error = host + ": " + first;
  }
  return out;
}

std::string EgressPolicy::refused_host(const std::string& host, int port) const {
  std::string error;
  bool refused = false;
  resolve(host, port, error, refused);
  return refused ? error : std::string();
}

// Set at start-up before any thread reads it (app/serve.cpp), so no lock.
const EgressPolicy& egress_policy() { return g_policy; }
void set_egress_policy(EgressPolicy p) { g_policy = std::move(p); }

std::optional<UrlHost> split_url_host(std::string_view url, std::string* why) {
  auto fail = [why](const char* reason) {
    if (why) *why = reason;
    return std::nullopt;
  };
  UrlHost u;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return fail("has no scheme");
  u.scheme = std::string(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  const auto end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (end != std::string_view::npos) u.rest = std::string(rest.substr(end));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    u.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority, port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("has an invalid host");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return fail("has an invalid host");
      port = authority.substr(close + 2);
      has_port = true;
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return fail("has no host");
  u.host = std::string(host);
  if (has_port && !port.empty()) {  // "host:" is the default port, as browsers read it
    for (char ch : port) {
      if (ch < '0' || ch > '9' || u.port > 65535) return fail("has an invalid port");
      u.port = u.port * 10 + (ch - '0');
    }
    if (u.port < 1 || u.port > 65535) return fail("has an invalid port");
  }
  return u;
}

std::string postgres_param_refused(std::string_view url) {
  const auto q = url.find('?');
  if (q == std::string_view::npos) return {};
  static constexpr std::string_view kAllowed[] = {"sslmode", "application_name", "connect_timeout",
                                                  "target_session_attrs", "options"};
  std::string_view rest = url.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view kv = rest.substr(0, amp);
    const std::string_view key = kv.substr(0, kv.find('='));
    bool ok = false;
    for (auto a : kAllowed) ok = ok || key == a;
    if (!ok && !key.empty()) return std::string(key);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return {};
}

}  // namespace sluice::common
