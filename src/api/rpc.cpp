// The RPC endpoint's dispatch: which operation a request names (by version and
// action; by product for the console's invoke), its parameters against the
// operation's contract (parameters.hpp), the rate limit, running it, the cloud's
// error format and the audit record of every call. Who sent a signed request is
// request_auth.cpp's to prove; the operations are the product files'.
#include "api/rpc.hpp"

#include <chrono>
#include <cstdlib>
#include <random>

#include "api/audit.hpp"
#include "api/call_audit.hpp"
#include "api/rate_limiter.hpp"
#include "api/request_auth.hpp"
#include "api/signature.hpp"
#include "common/log.hpp"

namespace sluice::api {

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

namespace {

// A refusal as the cloud answers it, noted in the call's audit event.
HttpResponse refusal(const ApiError& e, const std::string& request_id, const std::string& host_id, AuditEvent& ev) {
  ev.error_code = e.code;
  ev.error_message = e.message;
  ev.http_status = e.status;
  HttpResponse r{e.status, "application/json;charset=utf-8", {}, error_body(request_id, host_id, e)};
  if (e.code.rfind("Throttling", 0) == 0) r.headers.emplace_back("x-acs-retry-after", "1000");
  return r;
}

HttpResponse answer(std::string body) { return HttpResponse{200, "application/json;charset=utf-8", {}, std::move(body)}; }

// "Ram 2015-05-01, Sts 2015-04-01, ...": every product and API version served.
std::string versions_served(const Registry& reg) {
  std::string s;
  for (const auto& [product, version] : reg.products()) s += (s.empty() ? "" : ", ") + product + " " + version;
  return s;
}

}  // namespace

struct RpcEndpoint::Impl {
  Impl(iam::Authorizer* authz, int64_t window, NonceLedger* nonces) : auth(authz, window, nonces) {}
  RequestAuthenticator auth;
  RateLimiter limiter;
};

RpcEndpoint::RpcEndpoint(RpcServices svc, RpcOptions opts)
    : impl_(std::make_unique<Impl>(svc.authz, opts.timestamp_window_seconds, svc.nonces)), svc_(svc),
      opts_(std::move(opts)) {}
RpcEndpoint::~RpcEndpoint() = default;

// A signed call between its two stages: begin() reads and authenticates it,
// complete() runs it; between them, on PostgreSQL, the shared nonce check
// (handle_async waits for it without holding a thread).
struct RpcEndpoint::Pending {
  std::string request_id, peer;
  AuditEvent ev;
  RpcRequest rr;
  Authentication auth;
  bool authenticated = false;  // the audit record lists auth.params, else rr.query
  const Operation* op = nullptr;
};

HttpResponse RpcEndpoint::finish(Pending& p, HttpResponse r) {
  audit_call(svc_.audit, p.ev, p.rr.action, p.rr.version, p.authenticated ? p.auth.params : p.rr.query);
  return r;
}

HttpResponse RpcEndpoint::refuse(Pending& p, const std::function<HttpResponse()>& stage) {
  try {
    return stage();
  } catch (const ApiError& e) {
    return finish(p, refusal(e, p.request_id, opts_.host_id, p.ev));
  } catch (const std::exception& e) {
    log::error("api: {} {} failed: {}", p.rr.version, p.rr.action, e.what());
    return finish(p, refusal(ApiError{"InternalError", 500, "The request processing has failed due to some unknown error."},
                             p.request_id, opts_.host_id, p.ev));
  }
}

std::optional<HttpResponse> RpcEndpoint::begin(const HttpRequest& req, Pending& p, bool defer_nonce) {
  p.request_id = new_request_id();
  p.peer = req.peer;
  p.ev = api_call_event(*svc_.iam, p.request_id, req.peer);
  if (const std::string* ua = req.header("user-agent")) p.ev.user_agent = ua->substr(0, 256);
  bool deferred = false;
  HttpResponse r = refuse(p, [&] {
    if (req.path != "/")
      fail("InvalidAction.NotFound", 404, "Specified api is not found: the RPC endpoint is \"/\", not \"" + req.path + "\".");
    if (req.method != "GET" && req.method != "POST")
      fail("UnsupportedHTTPMethod", 405, "Use GET (parameters in the query string) or POST (form body).");
    read_rpc_request(req, p.rr);
    const std::string& version = p.rr.version;
    const std::string& action = p.rr.action;
    if (version.empty()) fail("MissingVersion", 400, "Version is mandatory for this action.");
    if (action.empty()) fail("MissingAction", 400, "Action is mandatory for this action.");
    const Registry& reg = all_operations();
    if (!reg.knows_version(version))
      fail("InvalidVersion", 400,
           "Specified parameter Version is not valid: \"" + version + "\" is no product's API version here (" +
               versions_served(reg) + ").");
    p.ev.event_source = event_source(reg.product_of(version));
    p.op = reg.find(version, action);
    if (!p.op)
      fail("InvalidAction.NotFound", 404,
           "Specified api is not found, please check your url and method: " + reg.product_of(version) + " " +
               version + " has no action \"" + action + "\".");

    p.auth = impl_->auth.authenticate(req, p.rr, svc_.iam->now(), defer_nonce);
    p.authenticated = true;
    p.ev.account_id = p.auth.account_id;
    p.ev.access_key_id = p.auth.access_key_id;
    if (p.auth.principal) set_audit_identity(p.ev, *p.auth.principal);
    if (p.auth.error) throw *p.auth.error;
    if (p.auth.shared_nonce) {
      deferred = true;
      return HttpResponse{};
    }
    return finish(p, answer(run(*p.op, *p.auth.principal, p.auth.params, p.peer, p.request_id)));
  });
  if (deferred) return std::nullopt;
  return r;
}

HttpResponse RpcEndpoint::complete(Pending& p, const std::optional<ApiError>& nonce_refused) {
  return refuse(p, [&] {
    if (nonce_refused) throw *nonce_refused;
    return finish(p, answer(run(*p.op, *p.auth.principal, p.auth.params, p.peer, p.request_id)));
  });
}

HttpResponse RpcEndpoint::handle(const HttpRequest& req) {
  Pending p;
  if (auto r = begin(req, p, false)) return std::move(*r);
  return complete(p, std::nullopt);  // not reached: nothing is deferred
}

void RpcEndpoint::handle_async(const HttpRequest& req, HttpResponder respond) {
  auto p = std::make_shared<Pending>();
  if (auto r = begin(req, *p, true)) return respond(std::move(*r));
  // Signed by a known key, new to this node: run it once every node's ledger
  // says the nonce is new (one round trip per batch of requests).
  impl_->auth.check_shared(*p->auth.shared_nonce, [this, p, respond](std::optional<ApiError> refused) {
    respond.run([this, p, refused = std::move(refused)] { return complete(*p, refused); });
  });
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
                                 Params params, const std::string& source_ip, std::string_view channel,
                                 bool background) {
  const std::string request_id = new_request_id();
  std::string action(action_sv), version;
  AuditEvent ev = api_call_event(*svc_.iam, request_id, source_ip);
  ev.user_agent = std::string(channel);
  ev.account_id = who.account_id;
  set_audit_identity(ev, who);
  auto respond = [&](HttpResponse r) {
    if (background && ev.error_code.empty() && r.status < 400 && is_read_event(action)) return r;
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
    return respond(answer(run(*op, who, params, source_ip, request_id, true)));
  } catch (const ApiError& e) {
    return respond(refusal(e, request_id, opts_.host_id, ev));
  } catch (const std::exception& e) {
    log::error("api: console {} {} failed: {}", product, action, e.what());
    return respond(refusal(ApiError{"InternalError", 500, "The request processing has failed due to some unknown error."},
                           request_id, opts_.host_id, ev));
  }
}

std::shared_ptr<RpcEndpoint> register_rpc(HttpServer& http, RpcServices svc, RpcOptions opts) {
  auto ep = std::make_shared<RpcEndpoint>(svc, std::move(opts));
  http.route_async("/", [ep](const HttpRequest& r, HttpResponder respond) {
    // A person opening the server's address in a browser: send them to the console.
    // Every RPC call carries parameters (V1) or x-acs-action (V3), so none is caught here.
    if (r.method == "GET" && r.query.empty() && r.body.empty() && !r.header("x-acs-action") &&
        !r.header("authorization"))
      return respond(HttpResponse{302, "text/plain", {{"Location", "/console/"}}, "See /console/\n"});
    ep->handle_async(r, std::move(respond));
  });
  // Requests refused before a handler saw them (413 oversized, 400 malformed)
  // are audited too: who sent them is unknown, so they belong to no account and
  // show in the operator's export ('sluice admin audit export').
  if (svc.audit && svc.iam) {
    AuditLog* audit = svc.audit;
    iam::IamService* iam = svc.iam;
    http.on_refused([audit, iam](const HttpServer::Refusal& f) {
      AuditEvent ev = api_call_event(*iam, f.request_id, f.peer);
      ev.event_source = "http";
      ev.event_name = "RefusedRequest";
      ev.identity_type = "anonymous";
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
