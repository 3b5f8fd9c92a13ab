// The console's JSON API under /console/api/ (docs/console-api.md). Sessions
// are cookies (HttpOnly, SameSite=Strict) plus a CSRF token the app sends in
// X-CSRF-Token on every POST but sign-in; operations run through
// RpcEndpoint::invoke, so the console can do exactly what the principal's
// policies allow through the API, no more.
#include <algorithm>
#include <cctype>

#include <boost/json.hpp>

#include "api/audit.hpp"
#include "api/call_audit.hpp"
#include "api/console_api.hpp"
#include "api/console_policy.hpp"
#include "api/console_proxy.hpp"
#include "api/console_throttle.hpp"
#include "api/json_writer.hpp"
#include "api/mfa_ticket.hpp"
#include "api/rpc.hpp"
#include "common/log.hpp"
#include "iam/iam_service.hpp"
#include "store/crypto.hpp"
#include "store/db.hpp"

namespace sluice::api {

namespace {

namespace json = boost::json;

constexpr const char* kCookie = "sluice_session";
constexpr const char* kChannel = "sluice-console";

struct ConsoleError {
  int status;
  std::string code, message;
};
[[noreturn]] void cfail(int status, std::string code, std::string message) {
  throw ConsoleError{status, std::move(code), std::move(message)};
}

HttpResponse json_response(int status, std::string body) {
  return HttpResponse{status, "application/json;charset=utf-8", {{"Cache-Control", "no-store"}}, std::move(body)};
}

HttpResponse error_response(const ConsoleError& e, const std::string& request_id) {
  JsonWriter w;
  w.begin_object();
  w.field("Code", e.code);
  w.field("Message", e.message);
  w.field("RequestId", request_id);
  w.end_object();
  return json_response(e.status, std::move(w.str()));
}

std::string cookie_value(const HttpRequest& req, std::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (k != "cookie") continue;
    std::string_view s = v;
    while (!s.empty()) {
      size_t semi = s.find(';');
      std::string_view item = s.substr(0, semi);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=')
        return std::string(item.substr(name.size() + 1));
      s = semi == std::string_view::npos ? std::string_view{} : s.substr(semi + 1);
    }
  }
  return {};
}

json::object parse_body(const HttpRequest& req) {
  json::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec || !v.is_object())
    cfail(400, "InvalidParameter", "The request body must be a JSON object (Content-Type: application/json).");
  return std::move(v.as_object());
}

std::string str_field(const json::object& o, std::string_view name, bool required = true) {
  auto* v = o.if_contains(name);
  if (!v || v->is_null()) {
    if (required) cfail(400, "Missing" + std::string(1, static_cast<char>(std::toupper(name[0]))) + std::string(name.substr(1)),
                        "The field \"" + std::string(name) + "\" is required.");
    return {};
  }
  if (!v->is_string()) cfail(400, "InvalidParameter", "The field \"" + std::string(name) + "\" must be a string.");
  return std::string(v->as_string());
}

const char* kind_name(const iam::Principal& p) { return p.kind == iam::Principal::Kind::Root ? "Root" : "User"; }

std::string session_body(const ConsoleSession& s) {
  JsonWriter w;
  w.begin_object();
  w.key("principal").begin_object();
  w.field("kind", kind_name(s.principal));
  w.field("accountId", s.principal.account_id);
  w.field("name", s.principal.kind == iam::Principal::Kind::Root ? s.display_name : s.principal.name);
  w.field("displayName", s.display_name);
  w.field("arn", s.principal.arn());
  w.end_object();
  w.field("csrfToken", s.csrf);
  w.field("mustChangePassword", s.must_change_password);
  w.field("mustBindMfa", s.must_bind_mfa);
  w.field("expiresAt", s.expires_at);
  w.end_object();
  return std::move(w.str());
}

constexpr const char* kSessionEnded =
    "Your console session has ended: your password or console access changed, or your user was deleted. "
    "Sign in again.";

TrustedProxies parse_proxies(const std::vector<std::string>& entries) {
  TrustedProxies t;
  if (auto bad = TrustedProxies::parse(entries, t))
    throw std::invalid_argument("console trusted_proxies: \"" + *bad + "\" is not an IP address or CIDR block");
  return t;
}

class Console {
 public:
  Console(std::shared_ptr<RpcEndpoint> rpc, ConsoleOptions opts)
      : rpc_(std::move(rpc)),
        opts_(std::move(opts)),
        proxies_(parse_proxies(opts_.trusted_proxies)),
        sessions_(opts_.sessions),
        throttle_({opts_.login_failures_per_minute, opts_.login_failures_per_name_per_minute}) {}

  HttpResponse handle(const HttpRequest& req) {
    const std::string request_id = new_request_id();
    const std::string_view op = std::string_view(req.path).substr(std::string_view("/console/api/").size());
    try {
      if (op == "login") {
        post_only(req);
        return login(req, request_id);
      }
      if (op == "session") {
        if (req.method != "GET") method_not_allowed("GET");
        return json_response(200, session_body(require_session(req, request_id)));
      }
      if (op == "logout") {
        post_only(req);
        return logout(req, request_id);
      }
      if (op == "password") {
        post_only(req);
        return password(req, request_id);
      }
      if (op == "call") {
        post_only(req);
        return call(req);
      }
      if (op == "policy/validate") {
        post_only(req);
        checked_session(req, request_id);
        auto body = parse_body(req);
        return json_response(200, validate_policy_json(str_field(body, "document")));
      }
      cfail(404, "NotFound", "The console API has no \"" + std::string(op) + "\" (see docs/console-api.md).");
    } catch (const ConsoleError& e) {
      return error_response(e, request_id);
    } catch (const store::DbError& e) {
      if (e.kind == store::DbError::Kind::Unavailable)
        return error_response(ConsoleError{503, "ServiceUnavailable", kUnavailable}, request_id);
      log::error("console api {}: {}", req.path, e.what());
      return error_response(ConsoleError{500, "InternalError", "The request failed on the server."}, request_id);
    } catch (const std::exception& e) {
      log::error("console api {}: {}", req.path, e.what());
      return error_response(ConsoleError{500, "InternalError", "The request failed on the server."}, request_id);
    }
  }

 private:
  iam::IamService& iam() { return *rpc_->services().iam; }
  int64_t now() { return iam().now(); }

  // The control store out of reach (PostgreSQL lost): the console shows this.
  static constexpr const char* kUnavailable =
      "The service is temporarily unavailable: its store cannot be reached. Nothing was changed; try again shortly.";
  [[noreturn]] static void store_unavailable() { cfail(503, "ServiceUnavailable", kUnavailable); }

  [[noreturn]] static void method_not_allowed(const char* allowed) {
    cfail(405, "MethodNotAllowed", std::string("Use ") + allowed + " for this console API path.");
  }
  static void post_only(const HttpRequest& req) {
    if (req.method != "POST") method_not_allowed("POST");
  }

  std::string client(const HttpRequest& req) const { return proxies_.client_address(req); }

  // "; Secure" when the browser reached us over TLS (at a trusted proxy): the
  // cookie then never travels over plain HTTP.
  std::string cookie_attributes(const HttpRequest& req) const {
    return std::string("; HttpOnly; SameSite=Strict; Path=/") + (proxies_.secure(req) ? "; Secure" : "");
  }

  // A live session still bound to its login: the account, the RAM user (by id, so a
  // re-created user of the same name is someone else) with a login profile, and the
  // login generation it signed in at. Anything else ends it (401 SessionEnded).
  // Checked against the store on every request, so a change made by another process
  // (sluice admin) counts at once too.
  ConsoleSession require_session(const HttpRequest& req, const std::string& request_id) {
    const std::string cookie = cookie_value(req, kCookie);
    auto s = sessions_.touch(cookie, now());
    if (!s) cfail(401, "NotSignedIn", "You are not signed in, or your session has expired. Sign in again.");
    auto st = iam().console_standing(s->principal.account_id, s->user_id);
    if (!st && st.error().http_status == 503) store_unavailable();
    if (!st && st.error().http_status >= 500)
      throw std::runtime_error("console session check: " + st.error().message);  // a storage error ends nothing
    if (!st || st->generation != s->login_generation) {
      sessions_.remove(cookie);
      audit(&s->principal, "ConsoleSignin", "ConsoleSignout", req, request_id, "{}", 401, "SessionEnded",
            kSessionEnded);
      cfail(401, "SessionEnded", kSessionEnded);
    }
    if (!s->user_id.empty()) {  // a renamed user keeps its session under its new name
      if (st->name != s->principal.name) s->principal = iam::Principal::user(s->principal.account_id, st->name);
      s->display_name = st->display_name;
    }
    return *s;
  }

  // A signed-in session whose X-CSRF-Token matches: every mutating request.
  ConsoleSession checked_session(const HttpRequest& req, const std::string& request_id) {
    ConsoleSession s = require_session(req, request_id);
    const std::string* token = req.header("x-csrf-token");
    if (!token || !store::constant_time_equal(*token, s.csrf)) {
      audit(&s.principal, "ConsoleAction", "InvalidCsrfToken", req, request_id, "{}", 403, "InvalidCsrfToken");
      cfail(403, "InvalidCsrfToken",
            "The X-CSRF-Token header is missing or does not match this session; reload the console.");
    }
    return s;
  }

  // who == nullptr: a failed sign-in, whose account stays unknown.
  void audit(const iam::Principal* who, const char* type, const char* name, const HttpRequest& req,
             const std::string& request_id, std::string params, int status = 200, std::string code = {},
             std::string message = {}) {
    AuditLog* log = rpc_->services().audit;
    if (!log) return;
    AuditEvent ev;
    ev.time_ms = iam().now() * 1000;
    ev.event_type = type;
    ev.event_source = "signin.aliyun.com";
    ev.event_name = name;
    if (who) {
      ev.account_id = who->account_id;
      set_audit_identity(ev, *who);
    } else {
      ev.identity_type = "unknown";
    }
    ev.source_ip = client(req);
    ev.user_agent = kChannel;
    ev.request_id = request_id;
    ev.parameters = std::move(params);
    ev.error_code = std::move(code);
    ev.error_message = std::move(message);
    ev.http_status = status;
    log->record(std::move(ev));
  }

  // The sign-in answers that say more than "wrong login or password": each
  // comes only after the password matched (or, LoginLocked, names the lock).
  static bool sign_in_step_error(const std::string& code) {
    return code == "MFARequired" || code == "InvalidMFACode" || code == "LoginLocked" || code == "PasswordExpired" ||
           code == "Forbidden.LoginNetworkMask";
  }

  static std::string login_params(const std::string& login) {
    JsonWriter w;
    w.begin_object();
    w.field("LoginName", login);
    w.field("Password", "******");
    w.end_object();
    return std::move(w.str());
  }

  HttpResponse login(const HttpRequest& req, const std::string& request_id) {
    auto body = parse_body(req);
    const std::string login = str_field(body, "login"), pw = str_field(body, "password");
    if (login.empty() || login.size() > 200 || pw.size() > 1024)
      cfail(400, "InvalidParameter", "Give a login name (root login or alias, or user@alias) and a password.");
    const int64_t t = now();
    const std::string addr = client(req), key = iam().console_login_key(login);
    if (int64_t wait = throttle_.retry_after(addr, key, t); wait > 0) {
      ConsoleError e{429, "Throttling.Login",
                     "Too many failed sign-ins from your address or for this login name; try again in " +
                         std::to_string(wait) + " seconds."};
      HttpResponse r = error_response(e, request_id);
      r.headers.emplace_back("Retry-After", std::to_string(wait));
      return r;
    }
    // A RAM user with an MFA device signs in in two steps: the password, answered
    // MFARequired, then the password again with "mfaCode" (issue 21).
    std::optional<std::string> mfa_code;
    if (auto* m = body.if_contains("mfaCode"); m && m->is_string() && m->as_string().size() <= 16)
      mfa_code = std::string(m->as_string());
    // A saved MFA check of this browser (EnableSaveMFATicket), if any.
    const auto ticket = mfa_tickets_.check(cookie_value(req, MfaTickets::kCookie), t);
    auto who = iam().console_sign_in(login, pw, mfa_code, addr, ticket ? &*ticket : nullptr);
    if (!who && who.error().http_status == 503) store_unavailable();
    if (!who && who.error().http_status >= 500) throw std::runtime_error("console sign-in: " + who.error().message);
    if (!who && sign_in_step_error(who.error().code)) {
      const auto& e = who.error();
      // A wrong code counts as a wrong password; a step still to take or a
      // network refused (the credentials were right) does not.
      if (e.code != "MFARequired" && e.code != "Forbidden.LoginNetworkMask") throttle_.failed(addr, key, t);
      const size_t at = login.rfind('@');
      std::optional<iam::Principal> named;
      if (auto acct = iam().account_of_login(login); acct && at != std::string::npos)
        named = iam::Principal::user(*acct, login.substr(0, at));
      audit(named ? &*named : nullptr, "ConsoleSignin", "ConsoleSignin", req, request_id, login_params(login),
            e.http_status, e.code, e.message);
      cfail(e.http_status, e.code, e.message);
    }
    if (!who) {
      throttle_.failed(addr, key, t);
      // Recorded in the account the login names, if any, so its owner sees the attempts.
      std::optional<iam::Principal> named;
      if (auto acct = iam().account_of_login(login)) {
        const size_t at = login.rfind('@');
        const bool user = at != std::string::npos && iam().get_user(*acct, login.substr(0, at)).ok();
        named = user ? iam::Principal::user(*acct, login.substr(0, at)) : iam::Principal::root(*acct);
      }
      audit(named ? &*named : nullptr, "ConsoleSignin", "ConsoleSignin", req, request_id, login_params(login), 401,
            "InvalidCredentials", "The login name or password is wrong.");
      cfail(401, "InvalidCredentials", "The login name or password is wrong.");
    }
    throttle_.succeeded(addr, key, t);
    ConsoleSession s = sessions_.create(who->principal, who->user_id, who->generation, who->display_name,
                                        who->must_change_password, t, who->session_seconds);
    if (who->must_bind_mfa) {
      sessions_.must_bind_mfa(s.id);
      s.must_bind_mfa = true;
    }
    audit(&s.principal, "ConsoleSignin", "ConsoleSignin", req, request_id, login_params(login));
    HttpResponse r = json_response(200, session_body(s));
    // A RAM user's session may end sooner (LoginSessionDuration): the server
    // decides, the cookie is then refused as any ended session's.
    r.headers.emplace_back("Set-Cookie", std::string(kCookie) + "=" + s.id + cookie_attributes(req) +
                                             "; Max-Age=" + std::to_string(opts_.sessions.absolute_seconds));
    // A code was checked and the account saves MFA checks: this browser is not
    // asked again for 7 days (while the device stays bound).
    if (!who->mfa_serial.empty()) {
      auto pref = iam().security_preference(s.principal.account_id);
      if (pref && pref->enable_save_mfa_ticket)
        r.headers.emplace_back("Set-Cookie", std::string(MfaTickets::kCookie) + "=" +
                                                 mfa_tickets_.issue({who->user_id, who->mfa_serial}, t) +
                                                 cookie_attributes(req) + "; Max-Age=" +
                                                 std::to_string(MfaTickets::kSeconds));
    }
    return r;
  }

  HttpResponse logout(const HttpRequest& req, const std::string& request_id) {
    HttpResponse r = json_response(200, "{}");
    r.headers.emplace_back("Set-Cookie", std::string(kCookie) + "=" + cookie_attributes(req) + "; Max-Age=0");
    const std::string id = cookie_value(req, kCookie);
    if (!sessions_.touch(id, now())) return r;  // signed out already: nothing to protect
    ConsoleSession s;
    try {
      s = checked_session(req, request_id);
    } catch (const ConsoleError& e) {
      if (e.status == 401) return r;  // the session has just ended: signed out all the same
      throw;
    }
    sessions_.remove(id);
    audit(&s.principal, "ConsoleSignin", "ConsoleSignout", req, request_id, "{}");
    return r;
  }

  // The signed-in principal changes its own password. This session stays signed
  // in (it has just proved the old password) and moves to the login's new
  // generation; every other session of the same login ends.
  HttpResponse password(const HttpRequest& req, const std::string& request_id) {
    ConsoleSession s = checked_session(req, request_id);
    auto body = parse_body(req);
    const std::string old_pw = str_field(body, "oldPassword"), new_pw = str_field(body, "newPassword");
    const std::string params = R"({"OldPassword":"******","NewPassword":"******"})";
    auto refuse = [&](int status, std::string code, std::string message) {
      audit(&s.principal, "ConsoleAction", "ChangePassword", req, request_id, params, status, code, message);
      cfail(status, std::move(code), std::move(message));
    };
    const int64_t t = now();
    const bool root = s.principal.kind == iam::Principal::Kind::Root;
    const std::string addr = client(req);
    const std::string key = root ? "root:" + s.principal.account_id : "user:" + s.principal.account_id + ":" + s.principal.name;
    if (int64_t wait = throttle_.retry_after(addr, key, t); wait > 0)
      refuse(429, "Throttling.Login", "Too many wrong passwords; try again in " + std::to_string(wait) + " seconds.");
    auto acct = iam().get_account(s.principal.account_id);
    if (!acct) refuse(acct.error().http_status, acct.error().code, acct.error().message);
    const bool ok = root ? iam().verify_root_login(acct->login_name, old_pw).ok()
                         : iam().verify_user_login(s.principal.name + "@" + acct->alias, old_pw).ok();
    if (!ok) {
      throttle_.failed(addr, key, t);
      refuse(400, "InvalidPassword", "The current password is wrong.");
    }
    if (new_pw == old_pw) refuse(400, "InvalidParameter.Password.Same", "The new password must differ from the current one.");
    if (!root && !s.must_change_password) {  // a forced change is always allowed (as the cloud's console)
      auto pref = iam().security_preference(s.principal.account_id);
      if (!pref) refuse(pref.error().http_status, pref.error().code, pref.error().message);
      if (!pref->allow_user_to_change_password)
        refuse(403, "Forbidden.ChangePassword",
               "The account's security preference (AllowUserToChangePassword) does not let RAM users change their "
               "own passwords; ask an administrator.");
    }
    iam::Result<int64_t> generation =
        root ? iam().set_root_password(s.principal.account_id, new_pw)
             : [&]() -> iam::Result<int64_t> {
                 auto p = iam().update_login_profile(s.principal.account_id, s.principal.name, new_pw, false,
                                                     std::nullopt);
                 if (!p) return p.error();
                 return p->generation;
               }();
    if (!generation) refuse(generation.error().http_status, generation.error().code, generation.error().message);
    sessions_.password_changed(cookie_value(req, kCookie), *generation);
    audit(&s.principal, "ConsoleAction", "ChangePassword", req, request_id, params);
    return json_response(200, "{}");
  }

  HttpResponse call(const HttpRequest& req) {
    ConsoleSession s = checked_session(req, new_request_id());
    // The bootstrap root and RAM users marked PasswordResetRequired do nothing
    // else before they change their password (as the cloud's console insists).
    if (s.must_change_password)
      cfail(403, "PasswordResetRequired",
            "Change your password first (POST /console/api/password): this account must set a new password before "
            "it can do anything else.");
    auto body = parse_body(req);
    const std::string product = str_field(body, "product"), action = str_field(body, "action");
    // MFABindRequired (issue 21): a user without a device binds one first; the
    // RPC still decides whether the user may (AllowUserToManageMFADevices).
    if (s.must_bind_mfa) {
      static constexpr std::string_view kEnrolment[] = {"CreateVirtualMFADevice", "BindMFADevice", "GetUserMFAInfo",
                                                        "DeleteVirtualMFADevice", "GetCallerIdentity"};
      const bool enrolment = (product == "Ram" || product == "Sts") &&
                             std::find(std::begin(kEnrolment), std::end(kEnrolment), action) != std::end(kEnrolment);
      if (!enrolment)
        cfail(403, "MFABindRequired",
              "Bind an MFA device first: this user's login profile requires MFA (MFABindRequired) and none is bound.");
    }
    static constexpr std::string_view kProducts[] = {"OnsMqtt", "Ons", "Ram", "ResourceManager", "Sts", "Actiontrail"};
    if (std::find(std::begin(kProducts), std::end(kProducts), product) == std::end(kProducts))
      cfail(400, "InvalidParameter.Product",
            "\"product\" must be OnsMqtt, Ons, Ram, ResourceManager, Sts or Actiontrail.");
    if (action.size() > 128 || !std::all_of(action.begin(), action.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)); }))
      cfail(400, "InvalidParameter.Action", "\"action\" must be an operation name such as ListGroupId.");
    Params params;
    if (auto* p = body.if_contains("params"); p && !p->is_null()) {
      if (!p->is_object()) cfail(400, "InvalidParameter", "\"params\" must be an object of strings.");
      for (const auto& [k, v] : p->as_object()) {
        std::string val;
        if (v.is_string()) val = std::string(v.as_string());
        else if (v.is_bool()) val = v.as_bool() ? "true" : "false";
        else if (v.is_int64()) val = std::to_string(v.as_int64());
        else if (v.is_uint64()) val = std::to_string(v.as_uint64());
        else if (v.is_null()) continue;
        else
          cfail(400, "InvalidParameter",
                "The parameter \"" + std::string(k) + "\" must be a string (flatten lists as Name.1, Name.2).");
        params.emplace_back(std::string(k), std::move(val));
      }
    }
    // "background": true marks the console's own polling (docs/console-api.md).
    const auto* bg = body.if_contains("background");
    const bool background = bg && bg->is_bool() && bg->as_bool();
    HttpResponse r = rpc_->invoke(s.principal, product, action, std::move(params), client(req), kChannel, background);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  std::shared_ptr<RpcEndpoint> rpc_;
  ConsoleOptions opts_;
  TrustedProxies proxies_;
  ConsoleSessions sessions_;
  LoginThrottle throttle_;
  MfaTickets mfa_tickets_;  // EnableSaveMFATicket (a key of this process)
};

}  // namespace

void register_console(HttpServer& http, std::shared_ptr<RpcEndpoint> rpc, ConsoleOptions opts) {
  const std::string dir = opts.dir;
  http.route("/console", [](const HttpRequest&) {
    return HttpResponse{302, "text/plain", {{"Location", "/console/"}}, "See /console/\n"};
  });
  http.route("/console/", [dir](const HttpRequest& r) { return serve_console_file(dir, r); });
  if (!rpc) {  // anonymous mode: no accounts to sign in with
    http.route("/console/api/", [](const HttpRequest&) {
      return json_response(503, R"({"Code":"ServiceUnavailable","Message":"The server runs in anonymous mode )"
                                R"((--allow-anonymous): there are no accounts, so the console cannot sign in.","RequestId":""})");
    });
    return;
  }
  http.route("/console/api/", make_console_api(std::move(rpc), std::move(opts)));
}

HttpHandler make_console_api(std::shared_ptr<RpcEndpoint> rpc, ConsoleOptions opts) {
  auto console = std::make_shared<Console>(std::move(rpc), std::move(opts));
  return [console](const HttpRequest& r) { return console->handle(r); };
}

}  // namespace sluice::api
