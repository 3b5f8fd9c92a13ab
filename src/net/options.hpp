#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice::net {

enum class Transport : uint8_t { Tcp, Tls, Ws, Wss };
const char* transport_name(Transport t);

struct ServerOptions {
  std::string host = "0.0.0.0";
  int mqtt_port = 1883;   // -1: off; 0: any free port
  int mqtts_port = -1;
  int ws_port = -1;
  int wss_port = -1;
  unsigned threads = 0;   // 0: one per core
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;     // enables client certificate verification
  bool tls_require_client_cert = false;
  std::string ws_path = "/mqtt";
  uint32_t connect_timeout_ms = 10000;   // CONNECT must arrive within this
  size_t out_high_water = 1 << 20;       // unsent bytes per connection before it counts as congested
  uint32_t max_connections = 0;          // 0: unlimited
  // Connections per source address that have not completed CONNECT; more are
  // closed at accept. 0: unlimited.
  uint32_t max_pending_connects_per_source = 128;
  uint32_t connect_rate_per_source = 0;  // new connections per second per source address; 0: unlimited
  uint32_t connect_burst_per_source = 20;  // ... after a burst of this many
  uint16_t max_keep_alive = 0;           // 0: accept the client's; else cap (sent as Server Keep Alive)
  // A busy loop fed small PUBLISHes sleeps this long between iterations so
  // its reads bring batches (net/coalesce.hpp); 0: never.
  uint32_t coalesce_us = 50;
  // The loop's output to many connections in one system call (io_uring,
  // net/send_batch.hpp) where the kernel allows it; false: a send() each.
  bool io_uring = true;
};

}  // namespace sluice::net
