#pragma once
// Where authentication failures and denials go. The management-API layer
// implements the audit log (ActionTrail LookupEvents) behind this interface;
// until it is plugged in, LogAuditSink writes each event as a log line.
#include <cstdint>
#include <string>

namespace sluice::mq {

struct AuditEvent {
  int64_t time_ms = 0;
  std::string account_id;   // of the instance, when known
  std::string instance_id;
  std::string event;        // "mqtt.connect.denied", "mqtt.publish.denied", "mqtt.subscribe.denied", "mqtt.disconnect.revoked"
  std::string principal;    // access key id / device key id / custom username, never a secret
  std::string client_id;
  std::string source_ip;
  std::string resource;     // topic / filter, when relevant
  std::string reason;       // why (the deciding rule)
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual void record(const AuditEvent& e) = 0;  // any thread
};

class LogAuditSink final : public AuditSink {
 public:
  void record(const AuditEvent& e) override;
};

}  // namespace sluice::mq
