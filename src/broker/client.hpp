#pragma once
// What the broker needs from a live network connection. The network layer
// implements it; the broker never sees sockets.
#include <cstdint>

#include "broker/message.hpp"
#include "mqtt/reason.hpp"

namespace sluice::broker {

class Client {
 public:
  virtual ~Client() = default;

  // The event-loop thread the connection is pinned to for life.
  virtual unsigned worker() const = 0;
  // Names the connection on its loop (a hand-over's SessionKey::client); 0: none.
  virtual uint64_t id() const { return 0; }

  // The methods below run on worker() only.
  // Encode and queue one PUBLISH for this client (the loop coalesces writes).
  // Returns false when the client cannot take it (e.g. over its maximum packet size):
  // the message is then dropped for this client, as MQTT 5 3.1.2.25 requires.
  virtual bool send_publish(const Message& m, uint8_t qos, uint16_t packet_id, bool retain,
                            bool dup, uint32_t subscription_id) = 0;
  virtual void send_pubrel(uint16_t packet_id) = 0;
  // Whether this client's principal may receive `m` now (SPEC §4: a wildcard
  // subscription delivers nothing from a subtopic the principal may not
  // subscribe to; a resumed session's queue is re-checked against the principal
  // that resumed it). Asked before every send, queued and in-flight resends
  // included; false: the message is not for this client and is discarded.
  virtual bool may_receive(const Message& m) {
    (void)m;
    return true;
  }
  // The client's Receive Maximum: QoS 1/2 messages in flight to it at most.
  virtual uint16_t receive_maximum() const = 0;
  // True while the connection's unsent output is above its high-water mark:
  // QoS 0 messages are then dropped and QoS 1/2 wait in the session queue, so a
  // client that does not read costs bounded memory. When the output drains the
  // connection calls Session::pump().
  virtual bool congested() const = 0;

  // Thread-safe: close the connection with this reason (session takeover, admin).
  virtual void kick(mqtt::Reason reason) = 0;
};

}  // namespace sluice::broker
