#pragma once
// Plain structs of the ApsaraMQ for MQTT resource model (SPEC §1, §5).
// Times: *_ms fields are Unix milliseconds (the cloud API's unit), others seconds.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::mq {

// Per-instance limits and feature switches. Defaults follow the real service for
// the limits and Sluice's "full MQTT 5 broker" for the features (SPEC §1).
struct InstanceSettings {
  // limits
  uint32_t max_payload = 64 * 1024;        // bytes
  uint32_t max_topic_length = 64;          // characters of a topic name / filter
  uint32_t max_client_id_length = 64;
  uint32_t max_subscriptions_per_client = 30;
  uint32_t offline_message_ttl_s = 3 * 24 * 3600;
  uint32_t max_offline_messages = 1000000;  // per instance (the broker bounds per session)
  uint32_t max_connections = 0;             // 0 = unlimited
  uint32_t max_messages_per_second = 0;     // 0 = unlimited (per connection)
  uint32_t max_instance_messages_per_second = 0;  // 0 = unlimited (all clients of the instance, per node)
  // strictness (the real service is strict)
  bool strict_client_id = true;     // client id must be <GroupId>@@@<DeviceId> with an existing group
  bool strict_topic = true;         // a topic's parent (first level) must exist
  bool close_on_denied_publish = true;  // MQTT 3.x: close (true, as the cloud) or drop silently
  // features beyond the real service, on by default
  bool retain_available = true;
  bool will_available = true;
  bool shared_subscriptions = true;
  bool qos2 = true;                 // off: QoS 2 nowhere (QoS 1 at most)
  // The cloud refuses QoS 2 together with persistent sessions only: their QoS 2
  // subscriptions are granted QoS 1 unless this is on.
  bool qos2_persistent_sessions = false;
  bool wildcard_subscriptions = true;
  bool tracing = true;              // device traces (connect, disconnect, denials): per connection, cheap
  // Message traces (publish + every delivery) cost about as much as routing the
  // message itself (docs/benchmarks.md), so they are opt-in per instance.
  bool message_trace = false;
  // TLS client authentication (issue 18): one-way (false, the default) or
  // mutual: every client must present a device certificate chained to a CA
  // registered and active on the instance, besides its usual authentication.
  bool mutual_tls = false;
};

struct Instance {
  std::string id;          // mqtt-<region>-<random>
  std::string account_id;
  std::string name;
  std::string type = "professional";
  std::string status = "Running";
  std::string remark;
  InstanceSettings settings;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  // Settings set explicitly (API names, sorted): kept when the edition changes;
  // the others follow the edition's defaults (mq/editions.hpp).
  std::vector<std::string> overrides;
};

struct InstanceSpec {
  std::string name;
  std::string type;    // empty: professional
  std::string remark;
  std::optional<InstanceSettings> settings;
  std::string resource_group_id;  // empty: the account's default group
};

// Settings by name and text ("MaxConnections", "5000"), as the API and
// `sluice admin --set` give them.
using SettingValues = std::vector<std::pair<std::string, std::string>>;

// UpdateInstance: what changes (an unset field stays as it is).
struct InstanceChange {
  std::optional<std::string> name, remark;
  std::optional<std::string> type;   // a new edition: its defaults, the overrides kept
  SettingValues sets;                // explicit settings (they become overrides)
  std::vector<std::string> resets;   // back to the edition's default ("all": every one)
};

struct Topic {
  std::string instance_id;
  std::string topic;
  std::string remark;
  int64_t created_at = 0;
};

struct GroupId {
  std::string instance_id;
  std::string group_id;
  std::string remark;
  int64_t created_at = 0;
};

struct Tag {
  std::string key, value;
};

struct TagResource {
  std::string resource_type;  // "instance"
  std::string resource_id;
  Tag tag;
};

// Token actions: R (subscribe), W (publish), or both.
struct TokenInfo {
  std::string instance_id;
  std::string account_id;
  std::vector<std::string> resources;  // topic filters
  bool read = false, write = false;
  int64_t expire_time_ms = 0;
  int64_t created_at = 0;
  bool revoked = false;
  std::string actions() const { return read && write ? "R,W" : read ? "R" : "W"; }
};

struct DeviceCredential {
  std::string instance_id;
  std::string client_id;
  std::string device_access_key_id;      // DC.<alnum>
  std::string device_access_key_secret;  // decrypted; shown by Register/Get/Refresh
  int64_t create_time_ms = 0;
  int64_t update_time_ms = 0;
};

enum class IdentityType { User, Client };
enum class SignMode { Origin, Signed };

struct CustomIdentity {
  std::string instance_id;
  std::string username;
  IdentityType type = IdentityType::User;
  std::string client_id;  // CLIENT identities: the one client id it is valid for
  std::string secret;     // decrypted
  SignMode sign_mode = SignMode::Origin;
  int64_t create_time_ms = 0;
  int64_t update_time_ms = 0;
  // The name permissions refer to: the username (USER) or the client id (CLIENT).
  const std::string& identity() const { return type == IdentityType::Client ? client_id : username; }
};

enum class PermitAction { Pub, Sub, PubSub };
enum class PermitEffect { Allow, Deny };

struct CustomPermission {
  std::string instance_id;
  std::string identity;  // username (USER) or client id (CLIENT)
  IdentityType identity_type = IdentityType::User;
  std::string topic;     // MQTT topic filter
  PermitAction action = PermitAction::PubSub;
  PermitEffect effect = PermitEffect::Allow;
  int64_t create_time_ms = 0;
};

struct SessionStatus {
  std::string instance_id;
  std::string client_id;
  bool online = false;
  size_t subscriptions = 0;
  std::vector<std::string> filters;
  std::vector<std::pair<std::string, uint8_t>> subscription_list;  // filter, QoS
  std::string remote_address;  // of the current or last connection
  bool clean_session = false;
  bool known = false;          // the broker has (or had) a session for the client id
  size_t queued = 0;
};

const char* to_string(IdentityType t);
const char* to_string(SignMode m);
const char* to_string(PermitAction a);
const char* to_string(PermitEffect e);

}  // namespace sluice::mq
