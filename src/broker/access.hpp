#pragma once
// The seam where authentication and authorization plug into the broker.
// Anonymous mode admits everyone into one default namespace; the ApsaraMQ
// layer (src/mq) implements the four authentication modes and the policy
// checks behind the same interface.
#include <memory>
#include <optional>
#include <string_view>

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
};

// The rights of one admitted connection, asked on every PUBLISH and SUBSCRIBE.
class ClientAccess {
 public:
  virtual ~ClientAccess() = default;
  virtual bool may_publish(std::string_view topic, uint8_t qos, bool retain) = 0;
  virtual bool may_subscribe(std::string_view filter) = 0;
};

struct Admission {
  mqtt::Reason reason = mqtt::Reason::Success;  // anything else: CONNACK with it, then close
  std::shared_ptr<Namespace> ns;
  std::unique_ptr<ClientAccess> access;  // null: everything allowed
};

class AccessControl {
 public:
  virtual ~AccessControl() = default;
  virtual Admission admit(const ConnectInfo& info) = 0;
};

}  // namespace sluice::broker
