#pragma once
// The audit record of an RPC call (eventType ApiCall): who called, from where,
// which product and action, with which parameters (the request's own left out,
// secrets masked), and how it ended. The endpoint writes one for every call,
// answered or refused; operations may add events of their own (Call::audit).
#include <cstdint>
#include <string>
#include <string_view>

#include "api/audit.hpp"
#include "api/encoding.hpp"
#include "iam/model.hpp"

namespace sluice::iam {
class IamService;
}

namespace sluice::api {

// The service clock (tests move it) in Unix milliseconds, with the wall clock's milliseconds.
int64_t audit_time_ms(iam::IamService& iam);
// An ApiCall event with its time, request id and source address filled in.
AuditEvent api_call_event(iam::IamService& iam, const std::string& request_id, const std::string& source_ip);
// "Ram" -> "ram.aliyuncs.com", as the cloud names an event's source.
std::string event_source(std::string_view product);
// The audit identity fields (identity_type, user_name, session_name) of a principal.
void set_audit_identity(AuditEvent& ev, const iam::Principal& who);
// Completes `ev` with the action (or the version when no product is known) and
// the parameters, and records it. No-op without an audit log.
void audit_call(AuditLog* audit, AuditEvent& ev, const std::string& action, const std::string& version,
                const Params& params);

}  // namespace sluice::api
