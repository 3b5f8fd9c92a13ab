#pragma once
// Everything the command line can set. Filled by main.cpp; read-only afterwards.
#include <cstdint>
#include <string>
#include <vector>

namespace sbench {

struct Options {
  std::string scenario;  // fanin | fanout | pairs | conns | connrate
  std::string host = "127.0.0.1";
  uint16_t port = 1883;
  uint16_t sub_port = 0;  // subscribers connect here (another node of a cluster); 0 = port
  int protocol = 4;       // 4 = MQTT 3.1.1, 5 = MQTT 5.0
  int qos = 0;
  size_t payload = 64;    // bytes per PUBLISH payload, header included
  int pubs = 0;           // 0 = scenario default
  int subs = 0;
  int threads = 1;
  double rate = 0;        // total publishes/s; 0 = closed loop
  int window = 64;        // closed loop: messages per publisher not yet delivered
  // QoS 1/2 publishes per publisher awaiting PUBACK/PUBCOMP. 20 is mosquitto's
  // max_inflight_messages, which it enforces on incoming QoS 2 even for 3.1.1
  // clients (who cannot be told); a v5 CONNACK Receive Maximum lowers it further.
  int inflight = 20;
  double duration = 10;   // measured seconds
  double warmup = 2;      // seconds before measuring
  uint64_t count = 0;     // stop after this many publishes in total (0 = by duration)
  double drain_timeout = 5;
  int broker_pid = 0;     // read its CPU time / RSS around the timed window
  std::vector<int> more_pids;  // pub/sub: their CPU time is added (the other nodes of a cluster)
  uint16_t keepalive = 60;
  std::string topic_prefix;  // empty = "sb<pid>", so two runs on one broker never mix
  std::string username, password;  // sent only when non-empty
  std::string sign_secret;       // non-empty: password = Base64(HMAC-SHA1(secret, client id)) per CONNECT
  std::string client_id_prefix;  // e.g. "GID_bench@@@" for an ApsaraMQ instance's <GroupId>@@@<DeviceId> rule
  // conns / connrate
  int conns = 1000;
  double hold = 10;
  bool subscribe = false;  // conns: one subscription per connection, each to its own topic
  int concurrency = 0;    // handshakes in flight; 0 = mode default
  int per_source = 25000; // connections per 127.0.0.x source address before rotating
  bool quiet = false;
  bool persistent_subs = false;  // subscribers keep a session (clean start off, v5 expiry 1 h)
};

}  // namespace sbench
