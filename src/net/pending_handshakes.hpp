#pragma once
// Connections per source address that have not completed CONNECT yet (accepted,
// perhaps mid TLS or WebSocket handshake, no CONNACK sent). Such a socket holds
// a descriptor and a slot of [mqtt] max_connections until the connect timeout
// while proving nothing about its sender, so without a cap one address holding
// idle sockets fills the server ([mqtt] max_pending_connects_per_source).
// Shared by every event loop: SO_REUSEPORT spreads one address's connections
// over all of them. A legitimate client is pending for one round trip or a TLS
// handshake, so even a busy NAT rarely has many at once.
//
// On every connect's path: a fixed-size key (no allocation), one short lock to
// begin and one to end; an address's entry stays at zero until prune().
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

struct sockaddr;

namespace sluice::net {

// A client's address as per-source limits count it: IPv4 as IPv4-mapped IPv6,
// so an IPv4 client on a dual-stack listener is the same source either way.
struct SourceAddress {
  uint64_t hi = 0, lo = 0;
  static SourceAddress of(const sockaddr* a);  // other families: all one source (0)
  std::string text() const;
  bool operator==(const SourceAddress&) const = default;
};
struct SourceAddressHash {
  size_t operator()(const SourceAddress& s) const {
    return std::hash<uint64_t>()(s.hi * 0x9E3779B97F4A7C15ull ^ s.lo);
  }
};

class PendingHandshakes {
 public:
  explicit PendingHandshakes(uint32_t per_source) : max_(per_source) {}
  // True: one more pending connection from `source`, to be ended with end().
  // False: it already has per_source of them.
  bool begin(const SourceAddress& source);
  void end(const SourceAddress& source);
  // Forgets addresses with nothing pending (loop 0, every few seconds).
  void prune();
  size_t sources();  // addresses tracked (some may be at zero until prune())

 private:
  const uint32_t max_;
  std::mutex mu_;
  std::unordered_map<SourceAddress, uint32_t, SourceAddressHash> count_;
};

}  // namespace sluice::net
