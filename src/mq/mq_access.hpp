#pragma once
// The broker seam (broker/access.hpp) for ApsaraMQ for MQTT: a CONNECT is given
// to the first authentication mode that claims it (auth_modes.hpp: Signature,
// Token, DeviceCredential, Custom; or the anonymous development mode), then the
// steps every mode shares are taken here: the per-source limit on failed
// attempts, the instance's client-id rules, the connection limit, the audit
// and traces of every refusal, and a per-connection MqClientAccess that asks
// the mode's Credential about every PUBLISH, SUBSCRIBE and delivery.
//
// Every unauthenticated failure gets the same answer (0x86), so a client
// without valid credentials learns nothing about which instances, access keys,
// groups or client ids exist; a proven key naming a missing or a foreign
// instance gets 0x87 alike; only then are the client id and rights checked.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/access.hpp"
#include "broker/broker.hpp"
#include "broker/publish_rate.hpp"
#include "mq/audit.hpp"
#include "mq/auth_mode.hpp"
#include "mq/trace.hpp"

namespace sluice::iam {
class Authorizer;
}

namespace sluice::mq {

class MqService;

struct AccessOptions {
  std::string default_instance;                 // Custom mode without an instance in SNI / Host
  int64_t token_notice_lead_ms = 5 * 60 * 1000; // $SYS/tokenExpireNotice this long before expiry
  double auth_fail_burst = 20;                  // failed CONNECTs per source address, then ...
  double auth_fail_per_second = 2;              // ... this many per second (refused with 0x87 beyond)
  // The control store out of reach (PostgreSQL lost): connected clients keep
  // the decisions cached for them this long, then are disconnected (0x89
  // Server busy); -1: as long as it takes.
  int64_t store_grace_ms = 60 * 1000;
};

// Publishes per second across an instance's clients on this node
// (MaxInstanceMessagesPerSecond): one counter per wall-clock second, shared by
// the instance's connections on every loop; the instance's namespace holds it,
// so that a cluster's heartbeats can share the limit between the nodes.
using InstanceRate = broker::PublishRate;

class MqAccessControl final : public broker::AccessControl {
 public:
  // ApsaraMQ's four modes over `mq` and `authz`.
  MqAccessControl(broker::Broker& broker, MqService& mq, iam::Authorizer& authz, AccessOptions opts = {},
                  std::shared_ptr<AuditSink> audit = nullptr);
  // Any set of modes; `mq` and `authz` may be null when no mode needs them
  // (the anonymous development mode, which has no instances).
  MqAccessControl(broker::Broker& broker, std::vector<std::unique_ptr<AuthMode>> modes, MqService* mq,
                  iam::Authorizer* authz, AccessOptions opts = {}, std::shared_ptr<AuditSink> audit = nullptr);
  // The anonymous development mode alone.
  static std::unique_ptr<MqAccessControl> anonymous(broker::Broker& broker);
  ~MqAccessControl() override;

  broker::Admission admit(const broker::ConnectInfo& info) override;
  // A will recorded on another node of a cluster: the identity it carries
  // (MqClientAccess::identity), rebuilt from the state as it is now.
  std::shared_ptr<broker::WillGuard> will_guard_for(std::string_view identity) override;

  // --- used by the per-connection access objects ---
  MqService* mq() { return mq_; }
  iam::Authorizer* authz() { return authz_; }
  const AccessOptions& options() const { return opts_; }
  void audit(AuditEvent e);
  void trace(std::string_view instance_id, DeviceTrace t);
  void connection_closed(const std::string& instance_id);
  std::shared_ptr<InstanceRate> instance_rate(const std::string& instance_id);
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  broker::Admission refuse(const broker::ConnectInfo& info, mqtt::Reason r, std::string_view instance_id,
                           std::string_view account_id, std::string_view principal, std::string why,
                           const std::string& channel);
  broker::Admission admit_to_instance(const broker::ConnectInfo& info, const AuthMode& mode, const Named& who,
                                      std::unique_ptr<Credential> cred, const MqState& state,
                                      const std::string& channel);
  bool rate_limited(std::string_view peer, int64_t now_ms);
  void note_failure(std::string_view peer, int64_t now_ms);
  int64_t now_ms() const;

  broker::Broker& broker_;
  std::vector<std::unique_ptr<AuthMode>> modes_;
  MqService* mq_;
  iam::Authorizer* authz_;
  AccessOptions opts_;
  std::shared_ptr<AuditSink> audit_;
  std::atomic<uint64_t> channel_seq_{1};
  std::atomic<uint64_t> failures_{0};
  struct Bucket {
    double tokens;
    int64_t last_ms;
  };
  std::mutex fail_mu_;
  std::unordered_map<std::string, Bucket> fail_buckets_;
  std::mutex conn_mu_;
  std::unordered_map<std::string, uint32_t> connections_;  // per instance
  std::unordered_map<std::string, std::shared_ptr<InstanceRate>> rates_;  // per instance (under conn_mu_)
};

}  // namespace sluice::mq
