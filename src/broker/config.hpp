#pragma once
// Per-namespace (per-instance) limits and feature switches. Defaults favour a
// full MQTT 5 broker; an ApsaraMQ instance can switch features off to behave
// exactly like the cloud service.
#include <cstdint>

namespace sluice::broker {

struct NamespaceConfig {
  // Bytes, whole packet, both directions. 1 MiB (as EMQX): a client announcing a
  // larger packet is refused at its fixed header, before anything is buffered.
  uint32_t max_packet_size = 1 << 20;
  uint16_t receive_maximum = 65535;         // QoS 1/2 PUBLISHes in flight from one client
  uint16_t max_inflight = 1024;             // QoS 1/2 in flight to one client (capped by its Receive Maximum)
  uint32_t max_queued_messages = 10000;     // per session; the oldest is dropped beyond it
  // Memory a session's queue may hold (see QueueBudget); the oldest is dropped
  // beyond it. 0 = unlimited. The server-wide bound is Broker::set_queue_memory_limit.
  uint64_t max_queued_bytes = 64ull << 20;
  // Messages queued across all sessions of the namespace (ApsaraMQ's per-instance
  // offline-message cap); beyond it new messages are not queued. 0 = unlimited.
  uint64_t max_queued_total = 0;
  uint16_t topic_alias_maximum = 64;        // aliases a client may use towards the broker
  uint32_t max_session_expiry = 0xFFFFFFFF; // seconds
  uint16_t max_subscriptions_per_client = 0;  // 0 = unlimited
  uint8_t maximum_qos = 2;
  // Off (ApsaraMQ's rule, SPEC §1): a subscription of a persistent session (session
  // expiry > 0 when it subscribes) is granted QoS 1 at most; clean sessions keep QoS 2.
  bool qos2_persistent_sessions = true;
  bool retain_available = true;
  bool will_available = true;               // off: a CONNECT carrying a will is refused
  bool wildcard_subscriptions = true;
  bool shared_subscriptions = true;
  bool subscription_identifiers = true;
  bool queue_qos0_offline = false;          // QoS 0 to an offline persistent session
  // ApsaraMQ P2P (added for src/mq): a message to "<parent>/p2p/<clientId>" goes to
  // that client's session only, without a subscription (off: plain MQTT routing).
  bool p2p_topics = false;

  bool operator==(const NamespaceConfig&) const = default;
};

}  // namespace sluice::broker
