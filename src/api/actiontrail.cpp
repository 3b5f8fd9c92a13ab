// Actiontrail 2020-07-06: LookupEvents over the audit log of the caller's
// account (time range, LookupAttribute EventName / UserName / EventAccessKeyId,
// MaxResults up to 50, NextToken paging, newest first).
#include "api/audit.hpp"
#include "api/rpc.hpp"
#include "api/signature.hpp"

namespace sluice::api {

namespace {

int64_t time_param(Call& c, const char* name, int64_t def_ms) {
  auto v = c.opt(name);
  if (!v || v->empty()) return def_ms;
  auto t = parse_timestamp(*v);
  if (!t)
    fail("InvalidParameter." + std::string(name), 400,
         std::string(name) + " must be UTC time like 2024-05-01T12:00:00Z, got \"" + *v + "\".");
  return *t * 1000;
}

void write_event(JsonWriter& w, const AuditEvent& e) {
  w.begin_object();
  w.field("eventId", std::to_string(e.id));
  w.field("eventName", e.event_name);
  w.field("eventTime", iso_time(e.time_ms / 1000));
  w.field("eventType", e.event_type);
  w.field("eventSource", e.event_source);
  w.field("serviceName", e.event_source.substr(0, e.event_source.find('.')));
  w.field("acsRegion", "local");
  w.field("eventRW", is_read_event(e.event_name) ? "Read" : "Write");
  w.key("userIdentity").begin_object();
  w.field("type", e.identity_type);
  w.field("accountId", e.account_id);
  w.field("userName", e.user_name);
  w.field("sessionName", e.session_name);
  w.field("accessKeyId", e.access_key_id);
  // Where CloudTrail puts it: the session's context, present only when set.
  if (!e.source_identity.empty()) {
    w.key("sessionContext").begin_object();
    w.field("sourceIdentity", e.source_identity);
    w.end_object();
  }
  w.end_object();
  w.field("sourceIpAddress", e.source_ip);
  w.field("userAgent", e.user_agent);
  w.field("requestId", e.request_id);
  w.key("requestParameters").raw(e.parameters.empty() ? "{}" : e.parameters);
  if (!e.error_code.empty()) {
    w.field("errorCode", e.error_code);
    w.field("errorMessage", e.error_message);
  }
  w.field("httpStatus", e.http_status);
  w.end_object();
}

void LookupEvents(Call& c) {
  c.authorize("actiontrail:LookupEvents", c.arn("actiontrail", "*"));
  auto* audit = c.svc().audit;
  if (!audit) fail("ServiceUnavailable", 503, "The audit log is not enabled on this server.");
  int64_t now_ms = c.now() * 1000;
  AuditQuery q;
  q.account_id = c.account();
  q.end_ms = time_param(c, "EndTime", now_ms + 1000);
  q.start_ms = time_param(c, "StartTime", *q.end_ms - 7LL * 86'400'000);
  if (*q.start_ms > *q.end_ms) fail("InvalidParameter.StartTime", 400, "StartTime must not be after EndTime.");
  q.max_results = static_cast<size_t>(c.opt_int("MaxResults", 20, 1, 50));
  for (const auto& a : c.list_of_objects("LookupAttribute")) {
    auto k = a.find("Key"), v = a.find("Value");
    if (k == a.end() || v == a.end())
      fail("InvalidParameter.LookupAttribute", 400, "Each LookupAttribute needs a Key and a Value.");
    if (k->second == "EventName") q.event_name = v->second;
    else if (k->second == "UserName") q.user_name = v->second;
    else if (k->second == "EventAccessKeyId") q.access_key_id = v->second;
    else if (k->second == "EventType") q.event_type = v->second;
    else if (k->second == "EventRW") {
      if (v->second != "Read" && v->second != "Write")
        fail("InvalidParameter.LookupAttribute", 400, "EventRW must be Read or Write, got \"" + v->second + "\".");
      q.read = v->second == "Read";
    } else
      fail("InvalidParameter.LookupAttribute", 400,
           "LookupAttribute Key must be EventName, UserName, EventAccessKeyId, EventType or EventRW, got \"" +
               k->second + "\".");
  }
  if (auto t = c.opt("NextToken"); t && !t->empty()) {
    char* end = nullptr;
    q.before_id = std::strtoll(t->c_str(), &end, 10);
    if (*end || q.before_id <= 0) fail("InvalidParameter.NextToken", 400, "NextToken is not one this API returned.");
  }
  int64_t next = 0;
  auto events = audit->lookup(q, &next);
  auto& w = c.out();
  w.key("Events").begin_array();
  for (const auto& e : events) write_event(w, e);
  w.end_array();
  w.field("NextToken", next ? std::to_string(next) : std::string());
  w.field("StartTime", iso_time(*q.start_ms / 1000));
  w.field("EndTime", iso_time(*q.end_ms / 1000));
}

}  // namespace

void add_actiontrail_operations(Registry& r) { r.add("Actiontrail", "2020-07-06", "LookupEvents", LookupEvents); }

}  // namespace sluice::api
