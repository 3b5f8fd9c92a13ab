#pragma once
// The ApsaraMQ for MQTT resources of every account (SPEC §1, §5): instances,
// parent topics, group ids, tags, tokens, device credentials, custom-auth
// identities, permissions and the connect blacklist. Persisted in the store
// (tables mq_*, mq/schema.cpp), mirrored in an immutable in-memory snapshot
// (mq_snapshot.cpp) that the broker-facing access layer reads without touching
// the database. One file per family of operations, as in src/iam.
//
// Methods are named after the cloud's operations (OnsMqtt 2020-04-20 plus the
// CreateInstance/ReleaseInstance/CreateTopic... extensions of SPEC §6) and
// return iam::Result<T> with cloud-style error codes. They do not authorize:
// the caller (management API, admin CLI) decides with iam::Authorizer first;
// `account_id` is the account that owns the resources.
//
// generation() moves after every committed change — also one committed by
// another process on the same data dir (seen by the store's change feed at
// most every 200 ms) — so per-connection caches know when to re-decide.
//
// The broker is not known here: the wiring (src/app/mq_binding.cpp) keeps one
// broker namespace per instance through on_snapshot(), and answers session
// queries through set_session_lookup().
//
// Thread safety: every member may be called from any thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "iam/errors.hpp"
#include "mq/cert_model.hpp"
#include "mq/model.hpp"
#include "mq/peers.hpp"
#include "mq/rule_model.hpp"
#include "mq/trace.hpp"

namespace sluice::store {
class Store;
class ChangeFeed;
}
namespace sluice::iam {
class IamService;
}

namespace sluice::mq {

using iam::Error;
using iam::Result;
using iam::Status;

struct MqOptions {
  std::string region = "local";
  int64_t token_min_ttl_ms = 60 * 1000;                // ApplyToken: 60 s ..
  int64_t token_max_ttl_ms = 30LL * 24 * 3600 * 1000;  // .. 30 days
  size_t token_max_resources = 100;
  size_t instances_per_account = 100;
  size_t topics_per_instance = 5000;
  size_t groups_per_instance = 5000;
  InstanceSettings instance_defaults;  // settings of a new instance created without its own
  TraceLimits traces;
};

// A parent topic's or a group id's row, by name in InstanceState: enough to
// answer ListTopic / ListGroupId from the snapshot.
struct MemberInfo {
  std::string remark;
  int64_t created_at = 0;  // Unix seconds
};

// The in-memory mirror of one instance's state (read by the access layer).

struct InstanceState {
  Instance inst;
  std::map<std::string, MemberInfo, std::less<>> topics;  // by name (byte order, as SQLite's ORDER BY)
  std::map<std::string, MemberInfo, std::less<>> groups;
  std::unordered_map<std::string, DeviceCredential> devices;  // by client id
  std::vector<CustomIdentity> identities;
  std::vector<CustomPermission> permissions;
  std::set<std::string, std::less<>> blacklist;
  InstanceCerts certs;  // CA and device certificates (issue 18; mq_certs.cpp)
  // Tags (mq_tags.cpp), by key: the instance's own, and its groups' by group id.
  // In the snapshot so that ListInstances and ListGroupId make no round trip.
  std::vector<Tag> tags;
  std::map<std::string, std::vector<Tag>, std::less<>> group_tags;
  std::vector<Rule> rules;  // issue 19 (mq_rules.cpp), by name
  const CustomIdentity* find_identity(IdentityType t, std::string_view name) const;
};

struct MqState {
  std::unordered_map<std::string, InstanceState> instances;
  // DeviceAccessKeyId -> (instance id, client id)
  std::unordered_map<std::string, std::pair<std::string, std::string>> device_keys;
  const InstanceState* instance(std::string_view id) const {
    auto it = instances.find(std::string(id));
    return it == instances.end() ? nullptr : &it->second;
  }
};

struct TokenQuery {
  bool valid = false;         // exists, not revoked, not expired
  std::string status;         // "Valid" | "Expired" | "Revoked"
  TokenInfo info;
};

struct TagFilter {
  std::string key, value;  // value empty: any value
};

class MqService {
 public:
  using Clock = int64_t (*)();  // Unix ms; tests move time forward
  MqService(std::shared_ptr<store::Store> store, iam::IamService& iam, MqOptions opts = {}, Clock clock = nullptr);
  ~MqService();
  MqService(const MqService&) = delete;
  MqService& operator=(const MqService&) = delete;

  const MqOptions& options() const { return opts_; }
  int64_t now_ms() const { return clock_(); }
  iam::IamService& iam() { return iam_; }
  TraceStore& traces() { return traces_; }

  uint64_t generation() {
    if (changes_due()) poll_external_changes();
    return generation_.load(std::memory_order_acquire);
  }
  std::shared_ptr<const MqState> state() const;
  // Since when (steady ms, store::ChangeFeed::steady_ms()) the control store
  // has been out of reach, for its connection or its change feed (caches may
  // then be stale); 0 while it is not (always, for SQLite). Any thread.
  int64_t store_lost_since_ms() const;

  // Each listener is called with every new snapshot, and at once with the current one, under
  // the store mutex, before generation() moves: the wiring keeps the broker's
  // namespaces (limits, switches, tracer) in step with the instances.
  using SnapshotListener = std::function<void(const MqState&)>;
  void on_snapshot(SnapshotListener listener);
  // The broker's view of one client's session (online, subscriptions, queue),
  // for QuerySessionByClientId; nullopt: no session for that client id. Set
  // once at startup, before any call; unset, every client is unknown.
  using SessionLookup =
      std::function<std::optional<SessionStatus>(std::string_view instance_id, std::string_view client_id)>;
  void set_session_lookup(SessionLookup lookup) { session_lookup_ = std::move(lookup); }
  // The other nodes of a cluster (mq/peers.hpp; null on one node): sessions,
  // closes and traces are asked of them too. Set once at startup, before any
  // call.
  void set_peers(std::shared_ptr<PeerNodes> peers) { peers_ = std::move(peers); }
  // This node's answer to a question another node's PeerNodes::ask_all sent
  // (mq_peers.cpp); a question it cannot read gets an empty answer.
  std::string answer_peer(std::string_view question);
  // The rules engine's view of a rule (issue 19); set once at startup. Unset: not running.
  using RuleStatusLookup = std::function<RuleStatus(std::string_view instance_id, std::string_view name)>;
  void set_rule_status_lookup(RuleStatusLookup lookup) { rule_status_lookup_ = std::move(lookup); }
  RuleStatus rule_status(std::string_view instance_id, std::string_view name) const {
    return rule_status_lookup_ ? rule_status_lookup_(instance_id, name) : RuleStatus{};
  }

  // ---- Instances ----
  // The edition's defaults (mq/editions.hpp), with `sets` on top as overrides;
  // or spec.settings whole (its differences from the defaults the overrides).
  Result<Instance> CreateInstance(std::string_view account_id, const InstanceSpec& spec,
                                  const SettingValues& sets = {});
  // Settings whole: those that change become overrides.
  Result<Instance> UpdateInstance(std::string_view account_id, std::string_view instance_id,
                                  std::optional<std::string> name, std::optional<std::string> remark,
                                  std::optional<InstanceSettings> settings);
  Result<Instance> UpdateInstance(std::string_view account_id, std::string_view instance_id,
                                  const InstanceChange& change);
  // An instance's edition defaults and the settings that differ from them or
  // were set explicitly (what the API shows as EditionDefaults / Overrides).
  InstanceSettings edition_defaults_of(const Instance& i) const;
  std::vector<std::string> overrides_of(const Instance& i) const;
  Status ReleaseInstance(std::string_view account_id, std::string_view instance_id);
  Result<Instance> GetInstance(std::string_view account_id, std::string_view instance_id);
  // Every instance of the account (the API filters by what the caller may see).
  Result<std::vector<Instance>> ListInstances(std::string_view account_id, const std::vector<TagFilter>& tags = {});

  // ---- Parent topics ----
  Result<Topic> CreateTopic(std::string_view account_id, std::string_view instance_id, std::string_view topic,
                            std::string_view remark = {});
  Status DeleteTopic(std::string_view account_id, std::string_view instance_id, std::string_view topic);
  Result<std::vector<Topic>> ListTopic(std::string_view account_id, std::string_view instance_id);

  // ---- Group ids ----
  Result<GroupId> CreateGroupId(std::string_view account_id, std::string_view instance_id, std::string_view group_id,
                                std::string_view remark = {});
  Status DeleteGroupId(std::string_view account_id, std::string_view instance_id, std::string_view group_id);
  Result<std::vector<GroupId>> ListGroupId(std::string_view account_id, std::string_view instance_id);

  // ---- Tags of group ids (the cloud's CreateGroupId / ListGroupId `Tags`) ----
  // Kept beside instance tags as resource type "group", id "<instance>/<group id>";
  // replaced as a whole. At most 20, keys as TagResources checks them.
  Status SetGroupTags(std::string_view account_id, std::string_view instance_id, std::string_view group_id,
                      const std::vector<Tag>& tags);
  Status CheckTags(const std::vector<Tag>& tags) const;
  // Every tagged group id of the instance, by group id.
  Result<std::map<std::string, std::vector<Tag>>> GroupTags(std::string_view account_id, std::string_view instance_id);

  // ---- Tags (resource type "instance") ----
  Status TagResources(std::string_view account_id, std::string_view resource_type,
                      const std::vector<std::string>& resource_ids, const std::vector<Tag>& tags);
  Status UntagResources(std::string_view account_id, std::string_view resource_type,
                        const std::vector<std::string>& resource_ids, const std::vector<std::string>& keys, bool all);
  Result<std::vector<TagResource>> ListTagResources(std::string_view account_id, std::string_view resource_type,
                                                    const std::vector<std::string>& resource_ids,
                                                    const std::vector<TagFilter>& tags = {});

  // ---- Tokens ----
  // actions: "R", "W", "R,W" (or "W,R"); expire_time_ms: epoch ms, 60 s .. 30 days ahead.
  Result<std::string> ApplyToken(std::string_view account_id, std::string_view instance_id,
                                 const std::vector<std::string>& resources, std::string_view actions,
                                 int64_t expire_time_ms);
  Result<TokenQuery> QueryToken(std::string_view account_id, std::string_view instance_id, std::string_view token);
  Status RevokeToken(std::string_view account_id, std::string_view instance_id, std::string_view token);
  // For the access layer: the token (by value) or nullopt when unknown (any account).
  std::optional<TokenInfo> find_token(std::string_view token) const;
  // By the token's SHA-256 (lower-case hex), as the store keeps it.
  std::optional<TokenInfo> find_token_by_hash(const std::string& hash) const;

  // ---- Device credentials ----
  Result<DeviceCredential> RegisterDeviceCredential(std::string_view account_id, std::string_view instance_id,
                                                    std::string_view client_id);
  Result<DeviceCredential> GetDeviceCredential(std::string_view account_id, std::string_view instance_id,
                                               std::string_view client_id);
  Result<DeviceCredential> RefreshDeviceCredential(std::string_view account_id, std::string_view instance_id,
                                                   std::string_view client_id);
  Status UnRegisterDeviceCredential(std::string_view account_id, std::string_view instance_id,
                                    std::string_view client_id);
  Result<std::vector<std::string>> ListDeviceCredentialClientId(std::string_view account_id,
                                                                std::string_view instance_id,
                                                                std::string_view group_id = {});

  // ---- Custom authentication ----
  // identity_type "USER" | "CLIENT"; sign_mode "ORIGIN" | "SIGNED".
  Status AddCustomAuthIdentity(std::string_view account_id, std::string_view instance_id, std::string_view username,
                               std::string_view identity_type, std::string_view client_id, std::string_view secret,
                               std::string_view sign_mode);
  Status UpdateCustomAuthIdentity(std::string_view account_id, std::string_view instance_id, std::string_view username,
                                  std::string_view identity_type, std::string_view client_id, std::string_view secret,
                                  std::string_view sign_mode);
  Status DeleteCustomAuthIdentity(std::string_view account_id, std::string_view instance_id, std::string_view username,
                                  std::string_view identity_type, std::string_view client_id);
  // Secrets are not returned (empty).
  Result<std::vector<CustomIdentity>> QueryCustomAuthIdentity(std::string_view account_id,
                                                              std::string_view instance_id,
                                                              std::string_view username = {},
                                                              std::string_view identity_type = {},
                                                              std::string_view client_id = {});
  // permit_action "PUB" | "SUB" | "PUB_SUB"; effect "ALLOW" | "DENY".
  Status AddCustomAuthPermission(std::string_view account_id, std::string_view instance_id, std::string_view identity,
                                 std::string_view identity_type, std::string_view topic, std::string_view permit_action,
                                 std::string_view effect);
  Status UpdateCustomAuthPermission(std::string_view account_id, std::string_view instance_id,
                                    std::string_view identity, std::string_view identity_type, std::string_view topic,
                                    std::string_view permit_action, std::string_view effect);
  Status DeleteCustomAuthPermission(std::string_view account_id, std::string_view instance_id,
                                    std::string_view identity, std::string_view identity_type, std::string_view topic);
  Result<std::vector<CustomPermission>> QueryCustomAuthPermission(std::string_view account_id,
                                                                  std::string_view instance_id,
                                                                  std::string_view identity = {},
                                                                  std::string_view identity_type = {},
                                                                  std::string_view topic = {});
  Status AddCustomAuthConnectBlack(std::string_view account_id, std::string_view instance_id,
                                   std::string_view client_id);
  Status DeleteCustomAuthConnectBlack(std::string_view account_id, std::string_view instance_id,
                                      std::string_view client_id);
  Result<std::vector<std::string>> QueryCustomAuthConnectBlack(std::string_view account_id,
                                                               std::string_view instance_id,
                                                               std::string_view client_id = {});

  // ---- CA and device certificates (issue 18; mq_certs.cpp) ----
  // The instance's registration code (made on first call): the CN a CA's
  // verification certificate must carry to prove possession of the CA's key.
  Result<std::string> GetRegisterCode(std::string_view account_id, std::string_view instance_id);
  // Registers a CA certificate (PEM) with its verification certificate (PEM:
  // CN = the registration code, signed by the CA's key); active at once.
  Result<CaCertificate> RegisterCaCertificate(std::string_view account_id, std::string_view instance_id,
                                              std::string_view name, std::string_view ca_pem,
                                              std::string_view verification_pem);
  Result<CertPage<CaCertificate>> ListCaCertificate(std::string_view account_id, std::string_view instance_id,
                                                    int page_no, int page_size);
  // Data rules (issue 19; mq_rules.cpp, docs/rules.md). Refused: a malformed
  // filter, target or URL, a loop (a rule feeding its own source), over 100 rules.
  Result<Rule> CreateRule(std::string_view account_id, const Rule& spec);
  Result<Rule> UpdateRule(std::string_view account_id, const Rule& spec);
  Result<Rule> GetRule(std::string_view account_id, std::string_view instance_id, std::string_view name);
  Result<std::vector<Rule>> ListRules(std::string_view account_id, std::string_view instance_id);
  Status DeleteRule(std::string_view account_id, std::string_view instance_id, std::string_view name);

  Result<CaCertificate> GetCaCertificate(std::string_view account_id, std::string_view instance_id,
                                         std::string_view sn);
  // Active or inactive: an inactive CA admits no device, and its connected devices are dropped.
  Status SetCaCertificateActive(std::string_view account_id, std::string_view instance_id, std::string_view sn,
                                bool active);
  // Deletes the CA and every device certificate registered under it.
  Status DeleteCaCertificate(std::string_view account_id, std::string_view instance_id, std::string_view sn);
  // ca_sn empty: every device certificate of the instance.
  Result<CertPage<DeviceCertificate>> ListDeviceCertificate(std::string_view account_id,
                                                            std::string_view instance_id, std::string_view ca_sn,
                                                            int page_no, int page_size);
  Result<DeviceCertificate> GetDeviceCertificate(std::string_view account_id, std::string_view instance_id,
                                                 std::string_view ca_sn, std::string_view device_sn);
  Status SetDeviceCertificateActive(std::string_view account_id, std::string_view instance_id,
                                    std::string_view ca_sn, std::string_view device_sn, bool active);
  Status DeleteDeviceCertificate(std::string_view account_id, std::string_view instance_id, std::string_view ca_sn,
                                 std::string_view device_sn);
  // For the access layer, after a device certificate passed the chain check on
  // a CONNECT: the first one registers it (active), as the cloud does; later
  // ones note the time (written at most once a minute per device). False when
  // the store refused the registration (the CONNECT is then refused).
  bool device_connected(const InstanceState& inst, const std::string& ca_sn, const x509::CertInfo& device,
                        std::string_view client_id);

  // ---- Runtime (sessions need set_session_lookup) ----
  Result<SessionStatus> QuerySessionByClientId(std::string_view account_id, std::string_view instance_id,
                                               std::string_view client_id);
  Result<std::vector<SessionStatus>> BatchQuerySessionByClientIds(std::string_view account_id,
                                                                  std::string_view instance_id,
                                                                  const std::vector<std::string>& client_ids);
  // The connection is closed by its access check within ~250 ms.
  Status CloseConnection(std::string_view account_id, std::string_view instance_id, std::string_view client_id);
  // Consumed by the access layer: true once for a connection asked to close.
  bool take_close_request(std::string_view instance_id, std::string_view client_id);

  // ---- Traces (kept in memory; bounded by MqOptions::traces) ----
  Result<std::vector<DeviceTrace>> QueryMqttTraceDevice(std::string_view account_id, std::string_view instance_id,
                                                        std::string_view client_id, int64_t begin_ms, int64_t end_ms);
  Result<std::vector<MessageTrace>> QueryMqttTraceMessageOfClient(std::string_view account_id,
                                                                  std::string_view instance_id,
                                                                  std::string_view client_id, int64_t begin_ms,
                                                                  int64_t end_ms);
  Result<std::vector<MessageTrace>> QueryMqttTraceMessagePublish(std::string_view account_id,
                                                                 std::string_view instance_id, std::string_view msg_id,
                                                                 int64_t begin_ms, int64_t end_ms);
  Result<std::vector<MessageTrace>> QueryMqttTraceMessageSubscribe(std::string_view account_id,
                                                                   std::string_view instance_id,
                                                                   std::string_view msg_id,
                                                                   std::string_view client_id, int64_t begin_ms,
                                                                   int64_t end_ms);

 private:
  // f(db) in one write transaction on the account's state (mq/internal.hpp):
  // committed when it returns a value, rolled back on an error. write() then
  // rebuilds the snapshot; transact() leaves it (tokens keep their own map).
  template <class F>
  auto transact(std::string_view account_id, F&& f, bool rebuild = false);
  template <class F>
  auto write(std::string_view account_id, F&& f);
  Status owned_instance(std::string_view account_id, std::string_view instance_id) const;
  template <class... A>
  Status change_one(std::string_view account_id, const Error& missing, std::string_view sql, const A&... args);

 public:
  struct Member;  // a parent topic or a group id: the table and names that tell them apart
  struct MemberRow {
    std::string instance_id, name, remark;
    int64_t created_at = 0;
  };

 private:
  Result<MemberRow> create_member(const Member& m, std::string_view account_id, std::string_view instance_id,
                                  std::string_view name, std::string_view remark);
  Status delete_member(const Member& m, std::string_view account_id, std::string_view instance_id,
                       std::string_view name);
  Result<std::vector<MemberRow>> list_members(const Member& m, std::string_view account_id,
                                              std::string_view instance_id);
  void reload_locked();  // rebuilds the snapshot from the store; bumps generation. Store mutex held.
  // The snapshot, for a read of this account answered from it, once the
  // change feed has been drained (other nodes' commits); nullptr when it may
  // not hold this account's latest (a change heard and not yet rebuilt, or
  // PostgreSQL's listener cut off): read through the store.
  std::shared_ptr<const MqState> current_state(std::string_view account_id);
  bool stale_pending() const;
  bool changes_due();    // one clock read, mostly
  void poll_external_changes();

  std::shared_ptr<store::Store> store_;
  iam::IamService& iam_;
  MqOptions opts_;
  Clock clock_;
  TraceStore traces_;
  std::unique_ptr<store::ChangeFeed> changes_;  // channel "mq"
  std::vector<SnapshotListener> snapshot_listeners_;  // store mutex (mq_binding, the rules engine)
  SessionLookup session_lookup_;
  RuleStatusLookup rule_status_lookup_;
  std::atomic<uint64_t> generation_{1};
  mutable std::mutex state_mu_;
  std::shared_ptr<const MqState> state_;
  // Changes a read's catch_up heard (current_state), rebuilt by the next poll;
  // cleared by every rebuild. Written with the store mutex held.
  mutable std::mutex stale_mu_;
  bool stale_all_ = false;
  std::set<std::string, std::less<>> stale_;
  // Tokens live outside the snapshot: ApplyToken at API rates (2,000/s) adds one
  // entry instead of rebuilding everything. sha256 hex of the token -> token.
  mutable std::shared_mutex tokens_mu_;
  std::unordered_map<std::string, TokenInfo> tokens_;
  void load_certs_locked(MqState& s);  // mq_certs.cpp: the certificate tables into the snapshot
  DeviceCertificate with_last_seen(DeviceCertificate d) const;
  mutable std::mutex seen_mu_;  // the last CONNECT of each device certificate, newer than the store's
  struct Seen {
    int64_t ms = 0, written_ms = 0;
    std::string client_id;
  };
  std::unordered_map<std::string, Seen> seen_;  // "<instance>\x1f<ca sn>\x1f<device sn>"
  std::mutex close_mu_;
  std::set<std::string, std::less<>> close_requests_;  // "<instance>\x1f<client>"
  std::shared_ptr<PeerNodes> peers_;
  // mq_peers.cpp: what this node and its peers know of these clients (in the
  // order asked), and closing a client wherever it is connected.
  std::vector<SessionStatus> sessions_of(std::string_view instance_id, const std::vector<std::string>& ids);
  bool close_here(std::string_view instance_id, std::string_view client_id);
  // The trace queries over this node's traces and its peers', in time order.
  std::vector<DeviceTrace> device_traces(std::string_view instance_id, std::string_view client_id, int64_t begin_ms,
                                         int64_t end_ms);
  std::vector<MessageTrace> message_traces(std::string_view instance_id, std::string_view msg_id,
                                           std::string_view client_id, std::string_view action, int64_t begin_ms,
                                           int64_t end_ms);
};

}  // namespace sluice::mq
