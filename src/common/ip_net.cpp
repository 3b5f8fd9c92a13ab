#include "common/ip_net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace sluice::common {

namespace {

// inet_pton wants a terminated string: copied to the stack (no allocation).
bool pton(std::string_view s, IpNet& n) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  if (inet_pton(AF_INET, buf, n.addr.data()) == 1) {
    n.v6 = false;
    n.prefix = 32;
    return true;
  }
  if (inet_pton(AF_INET6, buf, n.addr.data()) == 1) {
    n.v6 = true;
    n.prefix = 128;
    return true;
  }
  return false;
}

void unmap_v4(IpNet& n) {
  static constexpr uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!n.v6 || std::memcmp(n.addr.data(), mapped, 12) != 0) return;
  std::memmove(n.addr.data(), n.addr.data() + 12, 4);
  std::memset(n.addr.data() + 4, 0, 12);
  n.v6 = false;
  n.prefix = 32;
}

}  // namespace

bool parse_ip_addr(std::string_view s, IpNet& out) {
  IpNet n;
  if (!pton(s, n)) return false;
  unmap_v4(n);
  out = n;
  return true;
}

bool parse_ip_net(std::string_view s, IpNet& out) {
  const size_t slash = s.find('/');
  IpNet n;
  if (!pton(s.substr(0, slash), n)) return false;
  if (slash != std::string_view::npos) {
    const std::string_view p = s.substr(slash + 1);
    if (p.empty() || p.size() > 3) return false;
    int bits = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      bits = bits * 10 + (c - '0');
    }
    if (bits > n.prefix) return false;
    n.prefix = static_cast<uint8_t>(bits);
  }
  // Mask host bits so that membership is a plain prefix compare.
  for (int i = 0; i < 16; ++i) {
    const int keep = n.prefix - i * 8;
    if (keep >= 8) continue;
    n.addr[static_cast<size_t>(i)] &= keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
  }
  out = n;
  return true;
}

std::optional<IpNet> ip_of(const sockaddr* a) {
  IpNet n;
  if (a->sa_family == AF_INET) {
    std::memcpy(n.addr.data(), &reinterpret_cast<const sockaddr_in*>(a)->sin_addr, 4);
    n.prefix = 32;
    return n;
  }
  if (a->sa_family != AF_INET6) return std::nullopt;
  std::memcpy(n.addr.data(), reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr.s6_addr, 16);
  n.v6 = true;
  n.prefix = 128;
  unmap_v4(n);
  return n;
}

bool ip_in_net(const IpNet& a, const IpNet& net) {
  if (a.v6 != net.v6) return false;
  const int full = net.prefix / 8, rest = net.prefix % 8;
  if (std::memcmp(a.addr.data(), net.addr.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.addr[static_cast<size_t>(full)] & mask) == net.addr[static_cast<size_t>(full)];
}

}  // namespace sluice::common
