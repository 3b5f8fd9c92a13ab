#pragma once
// What the connection scenarios (conns, connrate) share: the source-address
// rotation and the CONNECT every one of their connections starts with.
#include <netinet/in.h>

#include <cstdint>
#include <string>

#include "connection.hpp"
#include "options.hpp"

namespace sbench {

// Source addresses 127.0.0.2, .3, ...: each has its own ~28,000 ephemeral
// ports towards the broker, so rotating lets one run pass that limit.
class SourceRotation {
 public:
  explicit SourceRotation(const Options& opt);
  // Source for the n-th connection, or nullptr to let the kernel choose.
  const sockaddr_in* next(uint64_t n);

 private:
  int per_;
  bool loopback_ = false;
  sockaddr_in src_{};
};

sluice::mqtt::Version version_of(const Options& opt);

// Queues CONNECT (version, keep alive, credentials from opt) and sets the
// connection up to decode server packets of that version.
void send_connect(const Options& opt, Connection& c, const std::string& client_id);

}  // namespace sbench
