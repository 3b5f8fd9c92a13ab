#pragma once
// An authentication mode (SPEC §5): how a CONNECT proves who it is, and what
// the identity it proved may do. One class per mode, each in its own file
// (auth_signature.cpp, auth_token.cpp, auth_device.cpp, auth_custom.cpp,
// auth_anonymous.cpp), registered in auth_modes.cpp. Everything the modes
// share (the per-source failure limit, the instance's client-id rules, the
// connection limit, audit and traces, the per-connection decision caches and
// message rate) lives once in MqAccessControl and MqClientAccess.
//
// Adding a mode: a new auth_<mode>.cpp with its AuthMode and Credential, one
// line in auth_modes.cpp, and its tests in mq_test.cpp.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/access.hpp"
#include "mqtt/reason.hpp"

namespace sluice::mq {

struct InstanceState;
struct MqState;

// Messages for this client only ($SYS/... notices): (topic, payload).
using Notices = std::vector<std::pair<std::string, std::string>>;

// The fixed facts of one admitted connection.
struct ClientFacts {
  std::string instance_id;
  std::string account_id;  // the instance's owner
  std::string client_id;
  std::string group_id;    // "GID_x" of "GID_x@@@device", may be empty
  std::string key_id;      // what the client named itself by (access key, device key, username): audit
  std::string peer;        // source address
  std::string channel;     // "ch-<n>": ties this connection's traces together
  bool secure = false;     // TLS
  // A mutual-TLS instance (issue 18): the device certificate this connection
  // was admitted with (its CA's serial and its own); empty otherwise.
  std::string cert_ca_sn, cert_sn;
};

// A credential as another node of a cluster can rebuild it (AuthMode::revive):
// what names it, never a secret. An empty mode: it cannot travel.
struct PortableCredential {
  std::string mode;  // AuthMode::name()
  std::string data;  // the mode's own form
};

// The identity one connection proved, in one mode, and what it may do. Asked
// on the connection's own thread, or on a copy under a will guard's lock.
// Topic decisions come after the instance's own rules (existence, length,
// parent topic, reserved "$" topics), which MqClientAccess applies to all modes.
class Credential {
 public:
  virtual ~Credential() = default;
  // A copy that decides later on its own (a will going out after its connection).
  virtual std::unique_ptr<Credential> clone() const = 0;
  // This credential for another node of a cluster (its will goes out there if
  // this node dies). Default: it cannot travel, and such a will is refused.
  virtual PortableCredential portable() const { return {}; }

  // Once the client id has passed the instance's rules: may it use the
  // instance at all? (Signature: mq:MqttInstanceAccess.)
  virtual bool may_connect(const ClientFacts& f, const InstanceState& i, int64_t now_ms, std::string* why) {
    (void)f, (void)i, (void)now_ms, (void)why;
    return true;
  }
  virtual bool may_publish(const ClientFacts& f, const InstanceState& i, std::string_view topic, uint8_t qos,
                           bool retain, int64_t now_ms, std::string* why) = 0;
  // A SUBSCRIBE filter ("$share/<g>/" removed), or at delivery a concrete topic.
  virtual bool may_subscribe(const ClientFacts& f, const InstanceState& i, std::string_view filter, int64_t now_ms,
                             std::string* why) = 0;
  // Re-decided after a change of state (SPEC §3: within a second). False: the
  // connection is dropped (why; notices are sent first).
  virtual bool still_admitted(const ClientFacts& f, const InstanceState& i, int64_t now_ms, std::string* why,
                              Notices& notices) = 0;
  // Asked on every check (about four times a second): the credential's own
  // expiry (STS keys, tokens). False: dropped. Notices (expiry warnings) may be
  // added either way.
  virtual bool still_valid(int64_t now_ms, std::string* why, Notices& notices) {
    (void)now_ms, (void)why, (void)notices;
    return true;
  }
  // Whether a RAM change can change this identity's rights.
  virtual bool governed_by_iam() const { return false; }
  // A PUBLISH to "$SYS/..." offered to the mode (Token: $SYS/uploadToken).
  struct SystemPublish {
    bool handled = false;         // true: not routed
    bool rights_changed = false;  // cached decisions must go
    std::string refused;          // non-empty: what was refused, for the audit log
    Notices notices;              // answers to this client
  };
  virtual SystemPublish on_system_publish(const ClientFacts& f, std::string_view topic, std::string_view payload,
                                          int64_t now_ms) {
    (void)f, (void)topic, (void)payload, (void)now_ms;
    return {};
  }
};

// One CONNECT being authenticated.
struct Attempt {
  const broker::ConnectInfo& info;
  std::string_view username, password, client_id;
  const MqState* state = nullptr;  // null where there are no instances (anonymous development mode)
  int64_t now_ms = 0;
};

// Who an attempt says it is, and where it wants to go, before anything is proven.
struct Named {
  std::string key_id;       // access key, device key or username: the audit's principal
  std::string instance_id;  // the instance it names (Custom: from SNI / Host, else the default)
};

// What a mode made of an attempt.
struct AuthOutcome {
  mqtt::Reason reason = mqtt::Reason::Success;  // anything else: refused
  std::string why;  // for the audit log and the owner's traces, never for the client
  // On success: the identity proven for the named instance. Null: everything
  // allowed in the namespace named (the anonymous development mode).
  std::unique_ptr<Credential> credential;

  static AuthOutcome ok(std::unique_ptr<Credential> c) {
    AuthOutcome o;
    o.credential = std::move(c);
    return o;
  }
  static AuthOutcome refuse(mqtt::Reason r, std::string why) {
    AuthOutcome o;
    o.reason = r;
    o.why = std::move(why);
    return o;
  }
};

class AuthMode {
 public:
  virtual ~AuthMode() = default;
  virtual std::string_view name() const = 0;
  // Whether this mode decides a CONNECT with this username (the first mode
  // that claims it does).
  virtual bool claims(const broker::ConnectInfo& info) const = 0;
  // MQTT 5 enhanced authentication: the Authentication Method this mode takes
  // (none today; a CONNECT naming another is refused with 0x8C).
  virtual bool accepts_auth_method(std::string_view method) const {
    (void)method;
    return false;
  }
  virtual Named named(const Attempt& a) const = 0;
  // Proves the attempt for `named(a).instance_id`.
  virtual AuthOutcome authenticate(const Attempt& a) = 0;
  // The credential another node made portable() (a dead node's will, sent by
  // this node), rebuilt from the state as it is now: what was deleted or
  // revoked since is refused (why).
  virtual AuthOutcome revive(const ClientFacts& f, std::string_view data, int64_t now_ms) {
    (void)f, (void)data, (void)now_ms;
    return AuthOutcome::refuse(mqtt::Reason::NotAuthorized, "this mode's credentials cannot be carried to another node");
  }
};

}  // namespace sluice::mq
