// Call: what an operation sees of the call it serves. Its parameters (read only
// through the operation's contract, parameters.hpp), its caller and the
// authorization of each action (NoPermission with the cloud's AccessDeniedDetail),
// and audit events of the operation's own.
#include <cerrno>
#include <cstdlib>

#include "api/audit.hpp"
#include "api/call_audit.hpp"
#include "api/rpc.hpp"
#include "common/log.hpp"

namespace sluice::api {

Call::Call(RpcEndpoint& ep, Params params, iam::Principal who, std::string source_ip, std::string request_id)
    : ep_(ep), params_(std::move(params)), who_(std::move(who)), source_ip_(std::move(source_ip)),
      request_id_(std::move(request_id)) {
  out_.begin_object();
  out_.field("RequestId", request_id_);
}

void Call::check_read(std::string_view name) const {
  if (contract_ && contract_->implements(name)) return;
  log::error("api: an operation read the parameter {}, which its contract (parameters.cpp) does not implement", name);
  throw ApiError{"InternalError", 500,
                 "The server read a parameter its contract does not declare (" + std::string(name) +
                     "); the call was refused."};
}

std::optional<std::string> Call::opt(std::string_view name) const {
  check_read(name);
  for (const auto& [k, v] : params_)
    if (k == name) return v;
  return std::nullopt;
}

std::string Call::req(std::string_view name) const {
  auto v = opt(name);
  if (!v || v->empty()) fail("Missing" + std::string(name), 400, std::string(name) + " is mandatory for this action.");
  return *v;
}

int64_t Call::opt_int(std::string_view name, int64_t def, int64_t lo, int64_t hi) const {
  auto v = opt(name);
  if (!v || v->empty()) return def;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v->c_str(), &end, 10);
  if (errno || end != v->c_str() + v->size() || x < lo || x > hi)
    fail("InvalidParameter." + std::string(name), 400,
         "The parameter " + std::string(name) + " must be an integer from " + std::to_string(lo) + " to " +
             std::to_string(hi) + ", got \"" + *v + "\".");
  return x;
}

std::optional<bool> Call::opt_bool(std::string_view name) const {
  auto v = opt(name);
  if (!v || v->empty()) return std::nullopt;
  if (*v == "true" || *v == "True" || *v == "TRUE") return true;
  if (*v == "false" || *v == "False" || *v == "FALSE") return false;
  fail("InvalidParameter." + std::string(name), 400,
       "The parameter " + std::string(name) + " must be true or false, got \"" + *v + "\".");
}

std::vector<std::string> Call::list(std::string_view name) const {
  check_read(name);
  std::map<long, std::string> byidx;
  std::string prefix = std::string(name) + ".";
  for (const auto& [k, v] : params_) {
    if (k.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = k.substr(prefix.size());
    if (rest.empty() || rest.find('.') != std::string::npos) continue;
    char* end = nullptr;
    long i = std::strtol(rest.c_str(), &end, 10);
    if (*end || i < 1) fail("InvalidParameter." + std::string(name), 400, "Bad list index in parameter " + k + ".");
    byidx[i] = v;
  }
  std::vector<std::string> out;
  for (auto& [_, v] : byidx) out.push_back(v);
  if (out.empty())
    if (auto single = opt(name); single && !single->empty()) out.push_back(*single);
  return out;
}

std::vector<std::map<std::string, std::string>> Call::list_of_objects(std::string_view name) const {
  check_read(name);
  std::map<long, std::map<std::string, std::string>> byidx;
  std::string prefix = std::string(name) + ".";
  for (const auto& [k, v] : params_) {
    if (k.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = k.substr(prefix.size());
    size_t dot = rest.find('.');
    if (dot == std::string::npos) continue;
    char* end = nullptr;
    std::string idx = rest.substr(0, dot);
    long i = std::strtol(idx.c_str(), &end, 10);
    if (*end || i < 1) fail("InvalidParameter." + std::string(name), 400, "Bad list index in parameter " + k + ".");
    byidx[i][rest.substr(dot + 1)] = v;
  }
  std::vector<std::map<std::string, std::string>> out;
  for (auto& [_, m] : byidx) out.push_back(std::move(m));
  return out;
}

RpcServices& Call::svc() { return ep_.services(); }

int64_t Call::now() const { return ep_.services().iam->now(); }

std::string Call::arn(std::string_view service, std::string_view relative) const {
  std::string s = "acs:";
  s += service;
  s += ":*:";
  s += who_.account_id;
  s.push_back(':');
  s += relative;
  return s;
}

namespace {
std::string display_name(const iam::Principal& who) {
  switch (who.kind) {
    case iam::Principal::Kind::Root: return who.account_id;
    case iam::Principal::Kind::User: return who.name;
    case iam::Principal::Kind::RoleSession: return who.name + ":" + who.session_name;
  }
  return who.name;
}

[[noreturn]] void deny(const iam::Principal& who, std::string_view action, std::string_view resource,
                       const iam::Authorizer::Verdict& v) {
  std::string m = "You are not authorized to do this action. The caller " + who.arn() + " needs " +
                  std::string(action) + " on " + std::string(resource) + " (" + v.explain() +
                  "). Ask an administrator of the account to grant it through RAM.";
  // The cloud's AccessDeniedDetail: lets a client (the console) say exactly which
  // action on which resource is missing without parsing the message.
  JsonWriter d;
  d.begin_object();
  d.field("AuthAction", action);
  d.field("AuthResource", resource);
  d.field("NoPermissionType", v.effect == iam::policy::Effect::Deny ? "ExplicitDeny" : "ImplicitDeny");
  d.field("AuthPrincipalType", who.kind == iam::Principal::Kind::Root   ? "Root"
                               : who.kind == iam::Principal::Kind::User ? "SubUser"
                                                                        : "AssumedRoleUser");
  d.field("AuthPrincipalOwnerId", who.account_id);
  d.field("AuthPrincipalDisplayName", display_name(who));
  d.end_object();
  throw ApiError{"NoPermission", 403, std::move(m), std::move(d.str())};
}
}  // namespace

void Call::authorize(std::string_view action, const std::string& resource, std::string_view rg,
                     iam::DecideOptions opts) {
  authorize(action, std::span<const std::string>(&resource, 1), rg, opts);
}

void Call::authorize(std::string_view action, std::span<const std::string> resources, std::string_view rg,
                     iam::DecideOptions opts) {
  auto v = svc().authz->decide(who_, action, resources, rg, nullptr, opts);
  if (!v.allowed()) deny(who_, action, resources.empty() ? "*" : resources[0], v);
  authorized_ = true;
}

void Call::authorize_unless_denied(std::string_view action, const std::string& resource) {
  auto v = svc().authz->decide(who_, action, std::span<const std::string>(&resource, 1), "", nullptr, {});
  if (v.effect == iam::policy::Effect::Deny) deny(who_, action, resource, v);
  authorized_ = true;
}

void Call::authorize_on(std::string_view action, std::span<const std::string> resources, std::string_view type,
                        std::string_view id) {
  auto v = svc().authz->decide_on(who_, action, resources, type, id);
  if (!v.allowed()) deny(who_, action, resources.empty() ? "*" : resources[0], v);
  authorized_ = true;
}

void Call::audit(AuditEvent ev) {
  AuditLog* log = svc().audit;
  if (!log) return;
  ev.time_ms = audit_time_ms(*svc().iam);
  ev.request_id = request_id_;
  ev.source_ip = source_ip_;
  if (ev.event_type.empty()) ev.event_type = "ApiCall";
  set_audit_identity(ev, who_);
  if (ev.access_key_id.empty()) ev.access_key_id = who_.access_key_id;
  log->record(std::move(ev));
}

}  // namespace sluice::api
