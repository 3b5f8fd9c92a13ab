#include "api/mq_audit_sink.hpp"

#include "api/audit.hpp"
#include "api/json_writer.hpp"

namespace sluice::api {

namespace {
class Sink final : public mq::AuditSink {
 public:
  explicit Sink(std::shared_ptr<AuditLog> log) : log_(std::move(log)) {}
  void record(const mq::AuditEvent& e) override {
    AuditEvent a;
    a.time_ms = e.time_ms;
    a.event_type = "MqttAuth";
    a.event_source = "mqtt";
    a.event_name = e.event;
    a.account_id = e.account_id;
    a.identity_type = e.principal.rfind("STS.", 0) == 0 ? "assumed-role" : "access-key";
    a.access_key_id = e.principal;
    a.source_ip = e.source_ip;
    JsonWriter w;
    w.begin_object();
    w.field("InstanceId", e.instance_id);
    w.field("ClientId", e.client_id);
    if (!e.resource.empty()) w.field("Resource", e.resource);
    w.end_object();
    a.parameters = std::move(w.str());
    a.error_code = "Denied";
    a.error_message = e.reason;
    a.http_status = 0;
    log_->record(std::move(a));
  }

 private:
  std::shared_ptr<AuditLog> log_;
};
}  // namespace

std::shared_ptr<mq::AuditSink> make_mq_audit_sink(std::shared_ptr<AuditLog> log) {
  return std::make_shared<Sink>(std::move(log));
}

}  // namespace sluice::api
