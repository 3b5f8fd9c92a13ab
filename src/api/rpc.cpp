#include "api/rpc.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <unordered_map>

#include "api/audit.hpp"
#include "api/signature.hpp"
#include "common/log.hpp"
#include "store/crypto.hpp"

namespace sluice::api {

// ---------------------------------------------------------------- helpers

void fail(std::string code, int status, std::string message) {
  throw ApiError{std::move(code), status, std::move(message)};
}
void fail(const iam::Error& e) { throw ApiError{e.code, e.http_status, e.message}; }

std::string iso_time(int64_t t) { return format_timestamp(t); }

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  uint64_t a = rng(), b = rng();
  static constexpr char kHexU[] = "0123456789ABCDEF";
  std::string s(36, '-');
  int bit = 0;
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    uint64_t& src = bit < 64 ? a : b;
    s[i] = kHexU[(src >> (bit % 64)) & 15];
    bit += 4;
  }
  return s;
}

RpcOptions RpcOptions::from_env() {
  RpcOptions o;
  if (const char* v = std::getenv("SLUICE_API_RATE_LIMITS")) {
    std::string_view s(v);
    while (!s.empty()) {
      size_t comma = s.find(',');
      std::string_view item = s.substr(0, comma);
      size_t eq = item.find('=');
      if (eq != std::string_view::npos) {
        try {
          o.rate_limits[std::string(item.substr(0, eq))] = std::stod(std::string(item.substr(eq + 1)));
        } catch (const std::exception&) {
          log::warn("SLUICE_API_RATE_LIMITS: ignoring \"{}\" (want Action=perSecond)", item);
        }
      }
      s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    }
  }
  return o;
}

// ---------------------------------------------------------------- registry

void Registry::add(std::string product, std::string version, std::string action, OpFn fn) {
  auto& m = ops_[version];
  std::string a = action;
  const ParameterContract* contract = parameter_contract(product, action);
  m[a] = Operation{std::move(product), std::move(version), std::move(action), fn, contract};
}

const Operation* Registry::find(std::string_view version, std::string_view action) const {
  auto v = ops_.find(version);
  if (v == ops_.end()) return nullptr;
  auto a = v->second.find(action);
  return a == v->second.end() ? nullptr : &a->second;
}

const Operation* Registry::find_by_product(std::string_view product, std::string_view action) const {
  for (const auto& [_, m] : ops_) {
    auto a = m.find(action);
    if (a != m.end() && a->second.product == product) return &a->second;
  }
  return nullptr;
}

bool Registry::knows_version(std::string_view version) const { return ops_.find(version) != ops_.end(); }

std::string Registry::product_of(std::string_view version) const {
  auto v = ops_.find(version);
  return v == ops_.end() || v->second.empty() ? std::string() : v->second.begin()->second.product;
}

std::vector<const Operation*> Registry::all() const {
  std::vector<const Operation*> out;
  for (const auto& [_, m] : ops_)
    for (const auto& [__, op] : m) out.push_back(&op);
  return out;
}

const Registry& all_operations() {
  static const Registry r = [] {
    Registry x;
    add_ram_operations(x);
    add_sts_operations(x);
    add_resourcemanager_operations(x);
    add_ons_operations(x);
    add_actiontrail_operations(x);
    add_onsmqtt_operations(x);
    return x;
  }();
  return r;
}

// ---------------------------------------------------------------- Call

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

void Call::authorize_on(std::string_view action, std::span<const std::string> resources, std::string_view type,
                        std::string_view id) {
  auto v = svc().authz->decide_on(who_, action, resources, type, id);
  if (!v.allowed()) deny(who_, action, resources.empty() ? "*" : resources[0], v);
  authorized_ = true;
}

// ---------------------------------------------------------------- endpoint

namespace {

// The signature's own parameters, and RegionId: the cloud's SDKs send it with
// calls to regional products, and a Sluice deployment is one region, so it
// selects nothing here (an operation whose result it could change would list it).
const char* kSystemParams[] = {"Action",         "Version",   "Format",        "AccessKeyId",   "Signature",
                               "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp",
                               "SecurityToken",  "SignatureType",    "RegionId"};

bool is_system_param(std::string_view k) {
  for (const char* s : kSystemParams)
    if (k == s) return true;
  return false;
}

std::string event_source(std::string_view product) {
  std::string s;
  for (char c : product) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return s + ".aliyuncs.com";
}

// Token buckets per (account, action), refilled continuously.
class RateLimiter {
 public:
  // true: allowed. retry_ms: how long until a token is available.
  bool take(const std::string& account, std::string_view action, double per_second, int64_t* retry_ms) {
    auto now = std::chrono::steady_clock::now();
    std::string key = account;
    key.push_back('\x1f');
    key += action;
    std::lock_guard lk(mu_);
    auto [it, fresh] = buckets_.try_emplace(std::move(key), Bucket{per_second, now});
    Bucket& b = it->second;
    if (!fresh) {
      double dt = std::chrono::duration<double>(now - b.last).count();
      b.tokens = std::min(per_second, b.tokens + dt * per_second);
      b.last = now;
    }
    if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return true;
    }
    *retry_ms = static_cast<int64_t>((1.0 - b.tokens) / per_second * 1000.0) + 1;
    return false;
  }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// Records one call: its parameters with system parameters left out and secrets masked.
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

int64_t audit_time_ms(iam::IamService& iam) {
  // The service clock (tests move it), with the wall clock's milliseconds.
  return iam.now() * 1000 + std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count() % 1000;
}

}  // namespace

std::string error_body(const std::string& request_id, const std::string& host_id, const ApiError& e) {
  JsonWriter w;
  w.begin_object();
  w.field("RequestId", request_id);
  w.field("HostId", host_id);
  w.field("Code", e.code);
  w.field("Message", e.message);
  if (!e.access_denied_detail.empty()) w.key("AccessDeniedDetail").raw(e.access_denied_detail);
  w.end_object();
  return std::move(w.str());
}

void set_audit_identity(AuditEvent& ev, const iam::Principal& who) {
  switch (who.kind) {
    case iam::Principal::Kind::Root: ev.identity_type = "root-account"; break;
    case iam::Principal::Kind::User: ev.identity_type = "ram-user"; break;
    case iam::Principal::Kind::RoleSession: ev.identity_type = "assumed-role"; break;
  }
  ev.user_name = who.kind == iam::Principal::Kind::Root ? "root" : who.name;
  ev.session_name = who.session_name;
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

namespace {

const std::string* find_param(const Params& p, std::string_view name) {
  for (const auto& [k, v] : p)
    if (k == name) return &v;
  return nullptr;
}

bool constant_time_eq(std::string_view a, std::string_view b) { return store::constant_time_equal(a, b); }

// V3: a signature covers only the headers listed in SignedHeaders, so every
// header that decides what runs or how the request is read must be among them:
// host, every x-acs-* header sent (x-acs-action and x-acs-version choose the
// operation; x-acs-content-sha256 binds the body; the date and nonce guard
// against replay), and content-type when sent (it decides whether the body is
// read as form parameters). Otherwise a request signed for one operation could
// be re-sent as another (issue #14, finding 7). The operation's headers must
// also be given once: two values would make the canonical request ambiguous.
void require_signed_headers(const HttpRequest& req, const V3Authorization& a) {
  auto is_signed = [&](std::string_view name) {
    return std::find(a.signed_headers.begin(), a.signed_headers.end(), name) != a.signed_headers.end();
  };
  auto unsigned_header = [](std::string_view name) {
    fail("IncompleteSignature", 400,
         "The request signature does not cover the header " + std::string(name) +
             ": list it in SignedHeaders (host, every x-acs-* header sent and content-type must be signed).");
  };
  for (const char* must : {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                           "x-acs-content-sha256"})
    if (!is_signed(must)) unsigned_header(must);
  std::map<std::string_view, int> seen;
  for (const auto& [name, _] : req.headers) {
    const bool selects = name.rfind("x-acs-", 0) == 0 || name == "host" || name == "content-type";
    if (selects && !is_signed(name)) unsigned_header(name);
    if ((name == "x-acs-action" || name == "x-acs-version" || name == "host") && ++seen[name] == 2)
      fail("IncompleteSignature", 400, "The header " + name + " is given more than once; give it once.");
  }
}

}  // namespace

struct RpcEndpoint::Impl {
  explicit Impl(int64_t nonce_ttl) : nonces(nonce_ttl) {}
  NonceCache nonces;
  RateLimiter limiter;
};

RpcEndpoint::RpcEndpoint(RpcServices svc, RpcOptions opts)
    : impl_(std::make_unique<Impl>(2 * opts.timestamp_window_seconds)), svc_(svc), opts_(std::move(opts)) {}
RpcEndpoint::~RpcEndpoint() = default;

HttpResponse RpcEndpoint::handle(const HttpRequest& req) {
  const std::string request_id = new_request_id();
  AuditEvent ev;
  ev.time_ms = audit_time_ms(*svc_.iam);
  ev.event_type = "ApiCall";
  if (const std::string* ua = req.header("user-agent")) ev.user_agent = ua->substr(0, 256);
  ev.source_ip = req.peer;
  ev.request_id = request_id;
  Params params;
  std::string action, version;
  std::optional<iam::Principal> who;

  auto respond_error = [&](const ApiError& e) {
    HttpResponse r{e.status, "application/json;charset=utf-8", {}, error_body(request_id, opts_.host_id, e)};
    if (e.code.rfind("Throttling", 0) == 0) r.headers.emplace_back("x-acs-retry-after", "1000");
    ev.error_code = e.code;
    ev.error_message = e.message;
    ev.http_status = e.status;
    return r;
  };
  auto finish = [&](HttpResponse r) {
    audit_call(svc_.audit, ev, action, version, params);
    return r;
  };

  try {
    if (req.path != "/")
      fail("InvalidAction.NotFound", 404, "Specified api is not found: the RPC endpoint is \"/\", not \"" + req.path + "\".");
    if (req.method != "GET" && req.method != "POST")
      fail("UnsupportedHTTPMethod", 405, "Use GET (parameters in the query string) or POST (form body).");
    if (!parse_query(req.query, params))
      fail("InvalidParameter", 400, "The query string has a malformed percent-escape.");
    const std::string* ctype = req.header("content-type");
    bool form_body = !req.body.empty() &&
                     (!ctype || ctype->rfind("application/x-www-form-urlencoded", 0) == 0);
    Params body_params;
    if (form_body && !parse_query(req.body, body_params))
      fail("InvalidParameter", 400, "The form body has a malformed percent-escape.");

    const std::string* authz = req.header("authorization");
    const bool v3 = authz && authz->rfind("ACS3-", 0) == 0;
    // Action and Version: V3 headers; V1 parameters.
    if (v3) {
      if (auto* a = req.header("x-acs-action")) action = *a;
      if (auto* v = req.header("x-acs-version")) version = *v;
    }
    {
      Params all = params;
      all.insert(all.end(), body_params.begin(), body_params.end());
      // A parameter given twice is ambiguous: reject rather than pick one.
      std::map<std::string_view, int> seen;
      for (const auto& [k, _] : all)
        if (++seen[k] == 2)
          fail("InvalidParameter.Duplicate", 400,
               "The parameter " + k + " is given more than once; give each parameter once.");
      if (!v3) {
        if (auto* a = find_param(all, "Action")) action = *a;
        if (auto* v = find_param(all, "Version")) version = *v;
      }
    }
    if (version.empty()) fail("MissingVersion", 400, "Version is mandatory for this action.");
    if (action.empty()) fail("MissingAction", 400, "Action is mandatory for this action.");
    const Registry& reg = all_operations();
    if (!reg.knows_version(version))
      fail("InvalidVersion", 400,
           "Specified parameter Version is not valid: \"" + version +
               "\" is no product's API version here (Ram 2015-05-01, Sts 2015-04-01, ResourceManager 2020-03-31, "
               "Ons 2019-02-14, Actiontrail 2020-07-06, OnsMqtt 2020-04-20).");
    ev.event_source = event_source(reg.product_of(version));
    const Operation* op = reg.find(version, action);
    if (!op)
      fail("InvalidAction.NotFound", 404,
           "Specified api is not found, please check your url and method: " + reg.product_of(version) + " " +
               version + " has no action \"" + action + "\".");

    // ---- authentication ----
    const int64_t now = svc_.iam->now();
    std::string key_id, signature, nonce, timestamp, token;
    // Both signature versions, once their fields are read: the timestamp within
    // the window, then the key (found before the signature is checked, so that
    // the audit event names the account) ...
    auto timely_key = [&] {
      auto ts = parse_timestamp(timestamp);
      if (!ts)
        fail("InvalidTimeStamp.Format", 400,
             "Specified time stamp or date value is not well formatted: \"" + timestamp +
                 "\" (want UTC YYYY-MM-DDThh:mm:ssZ).");
      if (*ts < now - opts_.timestamp_window_seconds || *ts > now + opts_.timestamp_window_seconds)
        fail("InvalidTimeStamp.Expired", 400,
             "Specified time stamp or date value is expired: " + timestamp +
                 " is more than 15 minutes from the server time " + format_timestamp(now) + "; check the client clock.");
      auto info = svc_.authz->lookup_access_key(key_id);
      if (!info) fail("InvalidAccessKeyId.NotFound", 404, "Specified access key is not found: " + key_id + ".");
      ev.account_id = info->principal.account_id;
      ev.access_key_id = key_id;
      return info;
    };
    // ... and, once the signature matched, that the key may be used now.
    auto usable_key = [&](const auto& info, const char* token_where) {
      who = info.principal;
      if (info.expires_at && info.expires_at <= now)
        fail("InvalidSecurityToken.Expired", 400, "Specified SecurityToken is expired; call AssumeRole again.");
      if (info.status != iam::KeyStatus::Active)
        fail("InvalidAccessKeyId.Inactive", 400, "Specified access key is disabled: " + key_id + ".");
      if (!info.security_token.empty()) {
        if (token.empty())
          fail("MissingSecurityToken", 400,
               std::string("An STS access key needs its SecurityToken ") + token_where + ".");
        if (!constant_time_eq(token, info.security_token))
          fail("InvalidSecurityToken.MismatchWithAccessKey", 400,
               "Specified SecurityToken does not belong to the access key " + key_id + ".");
      }
    };
    if (v3) {
      auto a = parse_v3_authorization(*authz);
      if (!a)
        fail("IncompleteSignature", 400,
             "The Authorization header must be \"ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2>,"
             "Signature=<hex>\".");
      key_id = a->access_key_id;
      signature = a->signature;
      auto hdr = [&](const char* n) -> std::string {
        auto* v = req.header(n);
        return v ? *v : std::string();
      };
      timestamp = hdr("x-acs-date");
      nonce = hdr("x-acs-signature-nonce");
      token = hdr("x-acs-security-token");
      if (timestamp.empty()) fail("MissingTimestamp", 400, "The x-acs-date header is mandatory (UTC, YYYY-MM-DDThh:mm:ssZ).");
      if (nonce.empty()) fail("MissingSignatureNonce", 400, "The x-acs-signature-nonce header is mandatory.");
      std::string payload = hdr("x-acs-content-sha256");
      if (payload.empty())
        fail("MissingContentSHA256", 400, "The x-acs-content-sha256 header (hex SHA-256 of the body) is mandatory.");
      std::string body_hash = hex(sha256(req.body));
      if (!constant_time_eq(payload, body_hash))
        fail("ContentSHA256NotMatch", 400,
             "The x-acs-content-sha256 header does not match the SHA-256 of the request body.");
      require_signed_headers(req, *a);
      auto info = timely_key();
      std::string cr = v3_canonical_request(req.method, req.path, params, req.headers, a->signed_headers, payload);
      std::string sts = v3_string_to_sign(cr);
      if (!constant_time_eq(v3_sign(info->secret, sts), signature))
        fail("SignatureDoesNotMatch", 400,
             "Specified signature is not matched with our calculation. Check the AccessKeySecret. Server "
             "StringToSign is: " + sts);
      usable_key(*info, "(x-acs-security-token)");
      // Parameters of a V3 call: the query, plus a form body if any.
      params.insert(params.end(), body_params.begin(), body_params.end());
    } else {
      params.insert(params.end(), body_params.begin(), body_params.end());
      auto need = [&](const char* n) -> std::string {
        auto* v = find_param(params, n);
        if (!v || v->empty()) fail(std::string("Missing") + n, 400, std::string(n) + " is mandatory for this action.");
        return *v;
      };
      key_id = need("AccessKeyId");
      signature = need("Signature");
      timestamp = need("Timestamp");
      nonce = need("SignatureNonce");
      std::string method = need("SignatureMethod");
      if (method != "HMAC-SHA1")
        fail("InvalidSignatureMethod", 400,
             "Specified signature method \"" + method + "\" is not supported; use HMAC-SHA1 (or the ACS3-HMAC-SHA256 "
             "Authorization header).");
      std::string sv = need("SignatureVersion");
      if (sv != "1.0") fail("InvalidSignatureVersion", 400, "Specified signature version \"" + sv + "\" is not supported; use 1.0.");
      if (auto* t = find_param(params, "SecurityToken")) token = *t;
      auto info = timely_key();
      Params signed_params;
      signed_params.reserve(params.size());
      for (const auto& kv : params)
        if (kv.first != "Signature") signed_params.push_back(kv);
      std::string sts = v1_string_to_sign(req.method, signed_params);
      if (!constant_time_eq(v1_sign(info->secret, sts), signature))
        fail("SignatureDoesNotMatch", 400,
             "Specified signature is not matched with our calculation. Check the AccessKeySecret. Server "
             "StringToSign is: " + sts);
      usable_key(*info, "parameter");
    }
    set_audit_identity(ev, *who);
    if (!impl_->nonces.first_use(key_id, nonce, now))
      fail("SignatureNonceUsed", 400,
           "Specified signature nonce was used already: send a fresh random SignatureNonce with every request.");

    return finish(HttpResponse{200, "application/json;charset=utf-8", {}, run(*op, *who, params, req.peer, request_id)});
  } catch (const ApiError& e) {
    return finish(respond_error(e));
  } catch (const std::exception& e) {
    log::error("api: {} {} failed: {}", version, action, e.what());
    return finish(respond_error(ApiError{"InternalError", 500, "The request processing has failed due to some unknown error."}));
  }
}

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? std::string("none") : s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// The operation's parameters (system parameters left out) once its contract
// (parameters.hpp) admits every one: an implemented one is passed on; an ignored
// one, or a refused one with an empty value (it asks for nothing), is dropped;
// a refused one with a value, or one the operation does not have, is refused.
Params contracted_params(const Operation& op, const Params& params) {
  static const ParameterContract kNone;
  const ParameterContract& c = op.params ? *op.params : kNone;
  const std::string where = op.product + " " + op.action + " (" + op.version + ")";
  Params out;
  out.reserve(params.size());
  for (const auto& kv : params) {
    if (is_system_param(kv.first)) continue;
    const std::string_view base = parameter_base(kv.first);
    if (c.implements(base)) {
      out.push_back(kv);
      continue;
    }
    if (c.ignoral(base)) continue;
    if (const ParamRule* r = c.refusal(base)) {
      if (kv.second.empty() || (!r->accepted.empty() && iequals(kv.second, r->accepted))) continue;
      fail("UnsupportedParameter", 400,
           "The parameter \"" + kv.first + "\" is not supported by " + where + " here: " + r->why + "." +
               (r->accepted.empty() ? std::string() : " Only the value \"" + r->accepted + "\" is accepted.") +
               " It is refused rather than ignored; send the request without it.");
    }
    fail("UnsupportedParameter", 400,
         "The parameter \"" + kv.first + "\" is not a parameter of " + where +
             "; it is refused rather than ignored. The operation takes: " + joined(c.implemented) + ".");
  }
  return out;
}

}  // namespace

std::string RpcEndpoint::run(const Operation& op, const iam::Principal& who, const Params& params,
                             const std::string& source_ip, const std::string& request_id, bool from_console) {
  const std::string& action = op.action;
  if (auto lim = opts_.rate_limits.find(action); lim != opts_.rate_limits.end() && lim->second > 0) {
    int64_t retry = 0;
    if (!impl_->limiter.take(who.account_id, action, lim->second, &retry))
      fail("Throttling.User", 400,
           "Request was denied due to user flow control: " + action + " allows " +
               std::to_string(static_cast<int64_t>(lim->second)) + " calls per second per account; retry in " +
               std::to_string(retry) + " ms.");
  }
  Params op_params = contracted_params(op, params);
  Call call(*this, std::move(op_params), who, source_ip, request_id);
  call.set_contract(op.params);
  if (from_console) call.set_from_console();
  op.fn(call);
  if (!call.authorized()) {
    log::error("api: operation {} {} ran without an authorization check", op.version, action);
    fail("InternalError", 500, "The server skipped an authorization check; the call was refused.");
  }
  call.out().end_object();
  return std::move(call.out().str());
}

HttpResponse RpcEndpoint::invoke(const iam::Principal& who, std::string_view product, std::string_view action_sv,
                                 Params params, const std::string& source_ip, std::string_view channel) {
  const std::string request_id = new_request_id();
  std::string action(action_sv), version;
  AuditEvent ev;
  ev.time_ms = audit_time_ms(*svc_.iam);
  ev.event_type = "ApiCall";
  ev.source_ip = source_ip;
  ev.request_id = request_id;
  ev.user_agent = std::string(channel);
  ev.account_id = who.account_id;
  set_audit_identity(ev, who);
  auto respond = [&](HttpResponse r) {
    audit_call(svc_.audit, ev, action, version, params);
    return r;
  };
  try {
    const Registry& reg = all_operations();
    const Operation* op = reg.find_by_product(product, action);
    if (!op) {
      ev.event_source = event_source(product);
      fail("InvalidAction.NotFound", 404,
           "Specified api is not found: the product \"" + std::string(product) + "\" has no action \"" + action + "\".");
    }
    version = op->version;
    ev.event_source = event_source(op->product);
    // As on the signed path: a parameter given twice is ambiguous (run() drops system parameters).
    std::map<std::string_view, int> seen;
    for (const auto& [k, _] : params)
      if (++seen[k] == 2)
        fail("InvalidParameter.Duplicate", 400, "The parameter " + k + " is given more than once; give each parameter once.");
    return respond(
        HttpResponse{200, "application/json;charset=utf-8", {}, run(*op, who, params, source_ip, request_id, true)});
  } catch (const ApiError& e) {
    ev.error_code = e.code;
    ev.error_message = e.message;
    ev.http_status = e.status;
    HttpResponse r{e.status, "application/json;charset=utf-8", {}, error_body(request_id, opts_.host_id, e)};
    if (e.code.rfind("Throttling", 0) == 0) r.headers.emplace_back("x-acs-retry-after", "1000");
    return respond(std::move(r));
  } catch (const std::exception& e) {
    log::error("api: console {} {} failed: {}", product, action, e.what());
    ApiError err{"InternalError", 500, "The request processing has failed due to some unknown error."};
    ev.error_code = err.code;
    ev.error_message = err.message;
    ev.http_status = 500;
    return respond(HttpResponse{500, "application/json;charset=utf-8", {}, error_body(request_id, opts_.host_id, err)});
  }
}

std::shared_ptr<RpcEndpoint> register_rpc(HttpServer& http, RpcServices svc, RpcOptions opts) {
  auto ep = std::make_shared<RpcEndpoint>(svc, std::move(opts));
  http.route("/", [ep](const HttpRequest& r) {
    // A person opening the server's address in a browser: send them to the console.
    // Every RPC call carries parameters (V1) or x-acs-action (V3), so none is caught here.
    if (r.method == "GET" && r.query.empty() && r.body.empty() && !r.header("x-acs-action") &&
        !r.header("authorization"))
      return HttpResponse{302, "text/plain", {{"Location", "/console/"}}, "See /console/\n"};
    return ep->handle(r);
  });
  // Requests refused before a handler saw them (413 oversized, 400 malformed)
  // are audited too: who sent them is unknown, so they belong to no account and
  // show in the operator's export ('sluice admin audit export').
  if (svc.audit && svc.iam) {
    AuditLog* audit = svc.audit;
    iam::IamService* iam = svc.iam;
    http.on_refused([audit, iam](const HttpServer::Refusal& f) {
      AuditEvent ev;
      ev.time_ms = audit_time_ms(*iam);
      ev.event_type = "ApiCall";
      ev.event_source = "http";
      ev.event_name = "RefusedRequest";
      ev.identity_type = "anonymous";
      ev.source_ip = f.peer;
      ev.request_id = f.request_id;
      ev.parameters = "{}";
      ev.error_code = f.code;
      ev.error_message = f.status == 413 ? "The request exceeds the size limit." : "Malformed HTTP request.";
      ev.http_status = f.status;
      audit->record(std::move(ev));
    });
  }
  return ep;
}

}  // namespace sluice::api
