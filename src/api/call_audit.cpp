#include "api/call_audit.hpp"

#include <chrono>

#include "api/json_writer.hpp"
#include "api/parameters.hpp"
#include "iam/iam_service.hpp"

namespace sluice::api {

int64_t audit_time_ms(iam::IamService& iam) {
  return iam.now() * 1000 + std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count() % 1000;
}

AuditEvent api_call_event(iam::IamService& iam, const std::string& request_id, const std::string& source_ip) {
  AuditEvent ev;
  ev.time_ms = audit_time_ms(iam);
  ev.event_type = "ApiCall";
  ev.source_ip = source_ip;
  ev.request_id = request_id;
  return ev;
}

std::string event_source(std::string_view product) {
  std::string s;
  for (char c : product) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return s + ".aliyuncs.com";
}

void set_audit_identity(AuditEvent& ev, const iam::Principal& who) {
  switch (who.kind) {
    case iam::Principal::Kind::Root: ev.identity_type = "root-account"; break;
    case iam::Principal::Kind::User: ev.identity_type = "ram-user"; break;
    case iam::Principal::Kind::RoleSession: ev.identity_type = "assumed-role"; break;
  }
  ev.user_name = who.kind == iam::Principal::Kind::Root ? "root" : who.name;
  ev.session_name = who.session_name;
  ev.source_identity = who.source_identity;
}

void audit_call(AuditLog* audit, AuditEvent& ev, const std::string& action, const std::string& version,
                const Params& params) {
  if (!audit) return;
  ev.event_name = action.empty() ? "(unknown)" : action;
  if (ev.event_source.empty()) ev.event_source = version.empty() ? "unknown" : version;
  JsonWriter pw;
  pw.begin_object();
  for (const auto& [k, v] : params) {
    if (is_system_param(k)) continue;
    pw.key(k).value(is_secret_parameter(k) ? std::string_view("******") : std::string_view(v));
  }
  pw.end_object();
  ev.parameters = std::move(pw.str());
  audit->record(std::move(ev));
}

}  // namespace sluice::api
