#pragma once
// Feeds the MQTT layer's authentication failures and denials (mq::AuditSink)
// into the audit log, so LookupEvents shows them beside the API calls.
#include <memory>

#include "mq/audit.hpp"

namespace sluice::api {

class AuditLog;

std::shared_ptr<mq::AuditSink> make_mq_audit_sink(std::shared_ptr<AuditLog> log);

}  // namespace sluice::api
