#pragma once
// An application message as the broker keeps it: owned, immutable once built,
// and shared (not copied) by every subscriber queue it reaches.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::broker {

struct Message {
  std::string topic;
  std::string payload;
  uint8_t qos = 0;
  bool retain = false;
  // MQTT 5 properties passed through to subscribers unchanged.
  std::optional<uint8_t> payload_format;
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  std::vector<std::pair<std::string, std::string>> user_properties;
  // Absolute expiry on the broker's monotonic clock (ms); 0 = never.
  int64_t expiry_at_ms = 0;
  // Serial of the publishing session (for No Local); 0 = the broker itself.
  uint64_t origin = 0;
  // Set where a message enters the broker, the same on every node of a cluster:
  // which node serves a shared subscription with members on several nodes is
  // chosen from it. 0 = not set (a will): the topic decides.
  uint64_t route_key = 0;
  // A cluster's QoS 1/2 message: its sequence in the message log (0: not from
  // the log; always 0 on one node). A persistent session's position is kept in it.
  uint64_t log_seq = 0;

  bool expired(int64_t now_ms) const { return expiry_at_ms != 0 && now_ms >= expiry_at_ms; }
  size_t footprint() const { return sizeof(Message) + topic.size() + payload.size(); }
};

using MessagePtr = std::shared_ptr<const Message>;

// Options of one subscription (MQTT 5 3.8.3.1), plus its subscription identifier.
struct SubOptions {
  uint8_t qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  uint8_t retain_handling : 7 = 0;
  // Set by the trie on the copy it routes with for a $share member: a cluster
  // keeps which queued messages a shared subscription brought (a session
  // moving to another node takes its share along). A bit beside
  // retain_handling (0..2): the options stay 8 bytes in every trie entry.
  bool shared : 1 = false;
  uint32_t subscription_id = 0;  // 0 = none
};
static_assert(sizeof(SubOptions) == 8, "a trie entry's options stay 8 bytes");

}  // namespace sluice::broker
