#pragma once
// An IP address or network ("10.0.0.0/8", "10.1.2.3", "2001:db8::/32", "::1"),
// one parser for every place that takes them: acs:SourceIp conditions and
// login networks (iam), [console] trusted_proxies (api), the egress policy's
// allowed networks (common/egress.hpp). Allocation-free.
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::common {

// A bare address is a /32 (or /128).
struct IpNet {
  bool v6 = false;
  uint8_t prefix = 0;              // bits that must match
  std::array<uint8_t, 16> addr{};  // network bytes (v4 uses the first 4), host bits masked off
};

// An address or a network; host bits are masked off. False if it does not parse.
bool parse_ip_net(std::string_view s, IpNet& out);
// A single address (no prefix); IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4:
// a dual-stack socket reports IPv4 peers that way, and policies name them as IPv4.
bool parse_ip_addr(std::string_view s, IpNet& out);
// A socket address as parse_ip_addr would give it; nullopt if it is not IP.
std::optional<IpNet> ip_of(const sockaddr* a);
// True if `addr` (a parse_ip_addr or ip_of result) lies in `net`.
bool ip_in_net(const IpNet& addr, const IpNet& net);

}  // namespace sluice::common
