#pragma once
// The broker seam (broker/access.hpp) for ApsaraMQ for MQTT: authentication on
// CONNECT in the four modes of SPEC §5 and authorization of every PUBLISH and
// SUBSCRIBE per SPEC §4, with a per-connection decision cache that is dropped
// when the IAM or MQ generation moves (checked every 250 ms by the connection,
// so a revoked right is gone within a second).
//
// Modes (the username says which):
//   Signature|<AccessKeyId>|<InstanceId>         password Base64(HMAC-SHA1(secret, clientId))
//   Token|<AccessKeyId>|<InstanceId>             password R|<token>|W|<token>
//   DeviceCredential|<DeviceAccessKeyId>|<Inst>  password Base64(HMAC-SHA1(device secret, clientId))
//   anything else: Custom (AddCustomAuthIdentity), instance from SNI / Host
//   "<instanceId>.<domain>", else the default instance.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "broker/access.hpp"
#include "broker/broker.hpp"
#include "mq/audit.hpp"
#include "mq/mq_service.hpp"

namespace sluice::iam {
class Authorizer;
}

namespace sluice::mq {

struct AccessOptions {
  std::string default_instance;                 // Custom mode without an instance in SNI / Host
  int64_t token_notice_lead_ms = 5 * 60 * 1000; // $SYS/tokenExpireNotice this long before expiry
  double auth_fail_burst = 20;                  // failed CONNECTs per source address, then ...
  double auth_fail_per_second = 2;              // ... this many per second (refused with 0x87 beyond)
};

class MqAccessControl final : public broker::AccessControl {
 public:
  MqAccessControl(broker::Broker& broker, MqService& mq, iam::Authorizer& authz, AccessOptions opts = {},
                  std::shared_ptr<AuditSink> audit = nullptr);
  ~MqAccessControl() override;

  broker::Admission admit(const broker::ConnectInfo& info) override;

  // --- used by the per-connection access objects ---
  MqService& mq() { return mq_; }
  iam::Authorizer& authz() { return authz_; }
  const AccessOptions& options() const { return opts_; }
  void audit(AuditEvent e);
  void trace(std::string_view instance_id, DeviceTrace t);
  void connection_closed(const std::string& instance_id);
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  struct Fail {
    broker::Admission adm;
  };
  broker::Admission refuse(const broker::ConnectInfo& info, mqtt::Reason r, std::string_view instance_id,
                           std::string_view account_id, std::string_view principal, std::string why,
                           const std::string& channel);
  bool rate_limited(std::string_view peer, int64_t now_ms);
  void note_failure(std::string_view peer, int64_t now_ms);

  broker::Broker& broker_;
  MqService& mq_;
  iam::Authorizer& authz_;
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
};

}  // namespace sluice::mq
