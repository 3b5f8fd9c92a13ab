#pragma once
// Connections per source address that have not completed CONNECT yet (accepted,
// perhaps mid TLS or WebSocket handshake, no CONNACK sent). Such a socket holds
// a descriptor and a slot of [mqtt] max_connections until the connect timeout
// while proving nothing about its sender, so without a cap one address holding
// idle sockets fills the server ([mqtt] max_pending_connects_per_source).
// Shared by every event loop: SO_REUSEPORT spreads one address's connections
// over all of them. A legitimate client is pending for one round trip or a TLS
// handshake, so even a busy NAT rarely has many at once.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sluice::net {

class PendingHandshakes {
 public:
  explicit PendingHandshakes(uint32_t per_source) : max_(per_source) {}
  // True: one more pending connection from `source` (a net::source_key), to be
  // ended with end(). False: it already has per_source of them.
  bool begin(const std::string& source);
  void end(const std::string& source);
  size_t sources();  // addresses with at least one pending connection

 private:
  const uint32_t max_;
  std::mutex mu_;
  std::unordered_map<std::string, uint32_t> count_;  // no zero entries: bounded by the connections
};

}  // namespace sluice::net
