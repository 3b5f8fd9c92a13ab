#pragma once
// The seam where authentication and authorization plug into the broker.
// Anonymous mode admits everyone into one default namespace; the ApsaraMQ
// layer (src/mq) implements the four authentication modes and the policy
// checks behind the same interface.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/will.hpp"
#include "mqtt/packet.hpp"
#include "mqtt/reason.hpp"

namespace sluice::broker {

class Namespace;

struct ConnectInfo {
  mqtt::Version version = mqtt::Version::V3_1_1;
  std::string_view client_id;
  std::optional<std::string_view> username;
  std::optional<std::string_view> password;
  std::string_view peer_address;  // "127.0.0.1" / "::1"
  std::string_view server_name;   // TLS SNI or WebSocket Host, may be empty
  bool secure = false;            // TLS
  // MQTT 5 enhanced authentication: the CONNECT's Authentication Method and Data.
  std::optional<std::string_view> auth_method;
  std::optional<std::string_view> auth_data;
  // The certificate chain the TLS client presented (DER, its own certificate
  // first; empty without TLS or without a client certificate), and whether the
  // listener verified it against its CA file. Modes that identify clients by
  // certificate check the chain against their own CAs.
  std::span<const std::string> peer_certificates;
  bool peer_verified = false;
};

// The rights of one admitted connection, asked on every PUBLISH and SUBSCRIBE.
// All methods run on the connection's own thread.
class ClientAccess {
 public:
  virtual ~ClientAccess() = default;
  // Success, or the reason the PUBLISH / the subscription is refused with:
  // NotAuthorized (0x87), TopicNameInvalid / TopicFilterInvalid for a topic the
  // instance's limits refuse, MessageRateTooHigh for a client over its rate
  // (the connection answers QoS 1/2 with Quota exceeded, QoS 0 with DISCONNECT).
  virtual mqtt::Reason authorize_publish(std::string_view topic, uint8_t qos, bool retain) = 0;
  virtual mqtt::Reason authorize_subscribe(std::string_view filter) = 0;
  bool may_publish(std::string_view topic, uint8_t qos, bool retain) {
    return authorize_publish(topic, qos, retain) == mqtt::Reason::Success;
  }
  bool may_subscribe(std::string_view filter) { return authorize_subscribe(filter) == mqtt::Reason::Success; }
  // Whether a message on this concrete topic may be delivered to the client
  // (SPEC §4): a subscription was granted for a filter, but a filter with
  // wildcards can match topics the principal may not read, and a resumed
  // session holds messages queued for whoever held it before. Asked for every
  // delivery, so it must be cheap (cached per topic).
  virtual bool may_receive(std::string_view topic) {
    (void)topic;
    return true;
  }
  // The guard asked when this client's will goes out, possibly after the
  // connection has closed (null: the will always goes out).
  virtual std::shared_ptr<WillGuard> will_guard() { return nullptr; }
  // This client's identity, portable to another node of a cluster, so that a
  // survivor sending its will decides it as this node would (empty: no one to
  // ask). Only asked in a cluster (Persistence::wants_will_identity).
  virtual std::string identity() const { return {}; }

  // Asked about once a second while connected, so that a change of rights
  // reaches connected clients within a second.
  struct Check {
    // Success: stay connected; anything else: DISCONNECT (v5) with it and close.
    mqtt::Reason reason = mqtt::Reason::Success;
    std::string why;
    // The rights may have changed: the connection re-asks may_subscribe for
    // each subscription it holds and removes those now denied.
    bool rights_changed = false;
    // Messages to send to this client only (topic, payload), e.g.
    // $SYS/tokenExpireNotice; sent before a disconnect.
    std::vector<std::pair<std::string, std::string>> notices;
  };
  virtual Check check(int64_t now_ms) {
    (void)now_ms;
    return {};
  }

  // A PUBLISH to a topic starting with "$SYS/" is offered here first (e.g.
  // $SYS/uploadToken). Returns true if handled: it is then not routed.
  virtual bool on_system_publish(std::string_view topic, std::string_view payload) {
    (void)topic;
    (void)payload;
    return false;
  }

  // MQTT 3.x has no way to refuse a PUBLISH: true closes the connection (as
  // ApsaraMQ does), false drops the message silently.
  virtual bool close_on_denied_publish() const { return true; }

  // The connection closed (why: "client disconnected", "keep alive timeout", ...).
  virtual void on_close(std::string_view why) { (void)why; }
};

struct Admission {
  mqtt::Reason reason = mqtt::Reason::Success;  // anything else: CONNACK with it, then close
  // Told to an MQTT 5 client with a refusal, where telling it gives nothing away
  // (empty: "not admitted").
  std::string reason_string;
  std::shared_ptr<Namespace> ns;
  std::unique_ptr<ClientAccess> access;  // null: everything allowed
};

class AccessControl {
 public:
  virtual ~AccessControl() = default;
  virtual Admission admit(const ConnectInfo& info) = 0;
  // The guard of a will that another node of a cluster recorded with
  // `identity` (ClientAccess::identity) and that this node sends: it decides
  // against the identity's rights when the will goes out. Null: no one to ask.
  virtual std::shared_ptr<WillGuard> will_guard_for(std::string_view identity) {
    (void)identity;
    return nullptr;
  }
};

}  // namespace sluice::broker
