// The console's JSON API over a real store, IamService, Authorizer and audit
// log: sign-in (root and RAM user), cookies and CSRF, expiry, password change,
// /call through the RPC's own authorization, policy validation, and the audit.
#include "api/console_api.hpp"

#include "api/console_policy.hpp"
#include "api/rpc_test_util.hpp"
#include "iam/totp.hpp"

namespace sluice::api {
namespace {

using namespace sluice::api::testing;
using iam::testing::g_now;

class ConsoleApiTest : public RpcTest {
 protected:
  void SetUp() override {
    RpcTest::SetUp();
    ConsoleOptions o;
    o.login_failures_per_minute = 5;
    api_ = make_console_api(std::shared_ptr<RpcEndpoint>(ep_.get(), [](RpcEndpoint*) {}), o);
  }
  HttpResponse req(const std::string& method, const std::string& path, const std::string& body = {},
                   const std::string& cookie = {}, const std::string& csrf = {}) {
    HttpRequest r;
    r.method = method;
    r.path = r.target = "/console/api/" + path;
    r.body = body;
    r.peer = peer_;
    r.headers = extra_headers_;
    r.headers.emplace_back("content-type", "application/json");
    if (!cookie.empty()) r.headers.emplace_back("cookie", "theme=dark; sluice_session=" + cookie);
    if (!csrf.empty()) r.headers.emplace_back("x-csrf-token", csrf);
    return api_(r);
  }
  static std::string header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return {};
  }
  static std::string str(const std::string& body, const std::string& name) {
    auto p = body.find("\"" + name + "\":\"");
    if (p == std::string::npos) return "";
    p += name.size() + 4;
    return body.substr(p, body.find('"', p) - p);
  }
  struct Signed {
    std::string cookie, csrf, body;
  };
  Signed login(const std::string& who, const std::string& pw) {
    auto r = req("POST", "login", R"({"login":")" + who + R"(","password":")" + pw + R"("})");
    EXPECT_EQ(r.status, 200) << r.body;
    std::string c = header(r, "Set-Cookie");
    EXPECT_NE(c.find("HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"), std::string::npos) << c;
    return {c.substr(15, c.find(';') - 15), str(r.body, "csrfToken"), r.body};
  }
  HttpHandler api_;
  std::string peer_ = "10.9.8.7";
  std::vector<std::pair<std::string, std::string>> extra_headers_;
};

TEST_F(ConsoleApiTest, RootSignInSessionAndLogout) {
  auto s = login("acme", "password-123");
  EXPECT_EQ(s.cookie.size(), 64u);
  EXPECT_EQ(s.csrf.size(), 64u);
  EXPECT_NE(s.body.find(R"("kind":"Root")"), std::string::npos) << s.body;
  EXPECT_NE(s.body.find(R"("accountId":")" + acct_ + "\""), std::string::npos);
  EXPECT_NE(s.body.find(R"("mustChangePassword":false)"), std::string::npos);
  auto r = req("GET", "session", {}, s.cookie);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str(r.body, "csrfToken"), s.csrf);
  // Logout needs the CSRF token like every other POST.
  EXPECT_EQ(req("POST", "logout", {}, s.cookie).status, 403);
  r = req("POST", "logout", {}, s.cookie, s.csrf);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(header(r, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  r = req("GET", "session", {}, s.cookie);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(r), "NotSignedIn");
}

TEST_F(ConsoleApiTest, BadCredentialsLookAlikeAndAreThrottled) {
  auto a = req("POST", "login", R"({"login":"acme","password":"wrong-pass"})");
  auto b = req("POST", "login", R"({"login":"nobody","password":"wrong-pass"})");
  auto c = req("POST", "login", R"({"login":"bob@acme","password":"wrong-pass"})");
  for (const auto* r : {&a, &b, &c}) {
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(code(*r), "InvalidCredentials");
    EXPECT_NE(r->body.find("The login name or password is wrong."), std::string::npos);
  }
  req("POST", "login", R"({"login":"acme","password":"wrong-pass"})");
  req("POST", "login", R"({"login":"acme","password":"wrong-pass"})");
  auto t = req("POST", "login", R"({"login":"acme","password":"password-123"})");
  EXPECT_EQ(t.status, 429);
  EXPECT_EQ(code(t), "Throttling.Login");
  g_now += 61;
  EXPECT_EQ(req("POST", "login", R"({"login":"acme","password":"password-123"})").status, 200);
}

TEST_F(ConsoleApiTest, BadRequestsAreClearErrors) {
  EXPECT_EQ(req("POST", "login", "not json").status, 400);
  EXPECT_EQ(req("POST", "login", R"({"login":5,"password":"x"})").status, 400);
  EXPECT_EQ(code(req("POST", "login", R"({"password":"x"})")), "MissingLogin");
  EXPECT_EQ(req("GET", "login").status, 405);
  EXPECT_EQ(req("GET", "nope").status, 404);
  EXPECT_EQ(req("POST", "call", R"({"product":"Ram","action":"ListUsers"})").status, 401);
  auto s = login("acme", "password-123");
  EXPECT_EQ(req("POST", "call", R"({"product":"Ram","action":"ListUsers"})", s.cookie, "x").status, 403);
  auto r = req("POST", "call", R"({"product":"Ram","action":"ListUsers","params":{"A":[1]}})", s.cookie, s.csrf);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(code(req("POST", "call", R"({"product":"Ecs","action":"DescribeInstances"})", s.cookie, s.csrf)),
            "InvalidParameter.Product");
  EXPECT_EQ(code(req("POST", "call", R"({"product":"Ram","action":"List Users"})", s.cookie, s.csrf)),
            "InvalidParameter.Action");
  r = req("POST", "call", R"({"product":"Ram","action":"Nope"})", s.cookie, s.csrf);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(code(r), "InvalidAction.NotFound");
}

TEST_F(ConsoleApiTest, CallRunsAsThePrincipalWithTheRpcAuthorization) {
  auto s = login("acme", "password-123");
  auto r = req("POST", "call", R"({"product":"Ram","action":"CreateUser","params":{"UserName":"bob"}})", s.cookie,
               s.csrf);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("UserName":"bob")"), std::string::npos) << r.body;
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-1", true).ok());
  auto b = login("bob@acme", "bob-password-1");
  EXPECT_NE(b.body.find(R"("kind":"User")"), std::string::npos) << b.body;
  EXPECT_NE(b.body.find(R"("mustChangePassword":true)"), std::string::npos) << b.body;
  // Nothing but the password change until the password is changed.
  r = req("POST", "call", R"({"product":"Ram","action":"ListUsers"})", b.cookie, b.csrf);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(code(r), "PasswordResetRequired");
  r = req("POST", "password", R"({"oldPassword":"bob-password-1","newPassword":"bob-password-2"})", b.cookie, b.csrf);
  ASSERT_EQ(r.status, 200) << r.body;
  r = req("POST", "call", R"({"product":"Ram","action":"ListUsers"})", b.cookie, b.csrf);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(code(r), "NoPermission");
  EXPECT_NE(r.body.find(R"("AccessDeniedDetail":{"AuthAction":"ram:ListUsers")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("NoPermissionType":"ImplicitDeny")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("AuthPrincipalDisplayName":"bob")"), std::string::npos) << r.body;

  audit_->flush();
  AuditQuery q;
  q.account_id = acct_;
  q.event_name = "ListUsers";
  auto ev = audit_->lookup(q);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].user_agent, "sluice-console");
  EXPECT_EQ(ev[0].access_key_id, "");
  EXPECT_EQ(ev[0].user_name, "bob");
  EXPECT_EQ(ev[0].error_code, "NoPermission");
  EXPECT_EQ(req("POST", "login", R"({"login":"bob@acme","password":"guess-guess"})").status, 401);
  q.event_name = "ConsoleSignin";
  audit_->flush();
  ev = audit_->lookup(q);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].error_code, "InvalidCredentials");  // newest first: the failed attempt, in bob's account
  EXPECT_EQ(ev[0].user_name, "bob");
  for (const auto& e : ev) {
    EXPECT_EQ(e.parameters.find("password-"), std::string::npos) << e.parameters;
    EXPECT_NE(e.parameters.find("******"), std::string::npos) << e.parameters;
  }
}

TEST_F(ConsoleApiTest, PasswordChange) {
  ASSERT_TRUE(iam_->set_root_password_change_required(acct_, true).ok());
  auto s = login("acme", "password-123");
  EXPECT_NE(s.body.find(R"("mustChangePassword":true)"), std::string::npos);
  auto r = req("POST", "password", R"({"oldPassword":"nope-nope","newPassword":"new-password-9"})", s.cookie, s.csrf);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code(r), "InvalidPassword");
  r = req("POST", "password", R"({"oldPassword":"password-123","newPassword":"short"})", s.cookie, s.csrf);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code(r), "InvalidParameter.Password.Length");
  EXPECT_EQ(r.body.find("short"), std::string::npos) << "a password must not be echoed: " << r.body;
  r = req("POST", "password", R"({"oldPassword":"password-123","newPassword":"new-password-9"})", s.cookie, s.csrf);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(req("GET", "session", {}, s.cookie).body.find(R"("mustChangePassword":false)"), std::string::npos);
  EXPECT_EQ(req("POST", "login", R"({"login":"acme","password":"password-123"})").status, 401);
  auto again = login("acme", "new-password-9");
  EXPECT_NE(again.body.find(R"("mustChangePassword":false)"), std::string::npos);
}

TEST_F(ConsoleApiTest, SessionsExpire) {
  auto s = login("acme", "password-123");
  g_now += 29 * 60;
  EXPECT_EQ(req("GET", "session", {}, s.cookie).status, 200);  // restarts the idle timer
  g_now += 29 * 60;
  EXPECT_EQ(req("GET", "session", {}, s.cookie).status, 200);
  g_now += 31 * 60;
  EXPECT_EQ(req("GET", "session", {}, s.cookie).status, 401);
  // Absolute limit: active all the time, still out after 12 hours.
  auto t = login("acme", "password-123");
  for (int i = 0; i < 12 * 3; ++i) {
    g_now += 20 * 60;
    auto r = req("GET", "session", {}, t.cookie);
    if (i < 12 * 3 - 1) EXPECT_EQ(r.status, 200) << i;
    else EXPECT_EQ(r.status, 401);
  }
}

// Issue 21: the security preference's LoginSessionDuration bounds a RAM user's
// console session (root keeps the console's own limit).
TEST_F(ConsoleApiTest, RamUserSessionsLastLoginSessionDuration) {
  ASSERT_TRUE(iam_->create_user(acct_, iam::UserInput{"bob", "", ""}).ok());
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-1").ok());
  auto pref = iam_->security_preference(acct_);
  ASSERT_TRUE(pref.ok());
  pref->login_session_duration = 1;
  ASSERT_TRUE(iam_->set_security_preference(acct_, *pref).ok());
  auto bob = login("bob@acme", "bob-password-1");
  auto root = login("acme", "password-123");
  for (int i = 1; i <= 4; ++i) {  // active every 20 minutes
    g_now += 20 * 60;
    EXPECT_EQ(req("GET", "session", {}, bob.cookie).status, i < 3 ? 200 : 401) << i;
    EXPECT_EQ(req("GET", "session", {}, root.cookie).status, 200) << i;
  }
}

// Issue 21: LoginNetworkMasks lets RAM users sign in only from the listed networks,
// said once the password is right (a wrong one is the usual InvalidCredentials);
// the root is not bound by it; a malformed list is refused.
TEST_F(ConsoleApiTest, RamUserSignInOnlyFromLoginNetworkMasks) {
  ASSERT_TRUE(iam_->create_user(acct_, iam::UserInput{"bob", "", ""}).ok());
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-1").ok());
  auto pref = iam_->security_preference(acct_);
  ASSERT_TRUE(pref.ok());
  auto bad = *pref;
  bad.login_network_masks = "192.168.0.0/16;not-a-net";
  EXPECT_EQ(iam_->set_security_preference(acct_, bad).error().code, "InvalidParameter.LoginNetworkMasks");
  pref->login_network_masks = "192.168.0.0/16; 2001:db8::/32";
  ASSERT_TRUE(iam_->set_security_preference(acct_, *pref).ok());
  auto r = req("POST", "login", R"({"login":"bob@acme","password":"bob-password-1"})");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(code(r), "Forbidden.LoginNetworkMask");
  EXPECT_EQ(code(req("POST", "login", R"({"login":"bob@acme","password":"wrong-password"})")), "InvalidCredentials");
  login("acme", "password-123");  // the root: anywhere
  peer_ = "192.168.7.8";
  login("bob@acme", "bob-password-1");
  peer_ = "2001:db8::5";
  login("bob@acme", "bob-password-1");
}

// Issue 21: a login profile with MFABindRequired and no device: the session may
// only enrol (the RPC still authorizes each call), and says so.
TEST_F(ConsoleApiTest, MfaBindRequiredAllowsOnlyEnrolment) {
  ASSERT_TRUE(iam_->create_user(acct_, iam::UserInput{"bob", "", ""}).ok());
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-1", false, true).ok());
  auto s = login("bob@acme", "bob-password-1");
  EXPECT_NE(s.body.find(R"("mustBindMfa":true)"), std::string::npos) << s.body;
  auto r = req("POST", "call", R"({"product":"Ram","action":"ListUsers"})", s.cookie, s.csrf);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(code(r), "MFABindRequired");
  r = req("POST", "call", R"({"product":"Ram","action":"GetUserMFAInfo","params":{"UserName":"bob"}})", s.cookie, s.csrf);
  EXPECT_NE(code(r), "MFABindRequired") << r.body;
  // Without the requirement: no such limit.
  ASSERT_TRUE(iam_->update_login_profile(acct_, "bob", std::nullopt, std::nullopt, false).ok());
  auto t = login("bob@acme", "bob-password-1");
  EXPECT_NE(t.body.find(R"("mustBindMfa":false)"), std::string::npos) << t.body;
}

// Issue 21: EnableSaveMFATicket. A sign-in with a code gets a 7-day ticket cookie
// that stands for a code of that device, only while the preference is on; a
// tampered or expired ticket, or none, and the code is asked for.
TEST_F(ConsoleApiTest, SavedMfaTicketStandsForACode) {
  ASSERT_TRUE(iam_->create_user(acct_, iam::UserInput{"bob", "", ""}).ok());
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-1").ok());
  auto d = iam_->create_virtual_mfa_device(acct_, "bob");
  ASSERT_TRUE(d.ok());
  const std::string seed = *iam::totp::base32_decode(d->base32_seed);
  const int64_t step = g_now / iam::totp::kStepSeconds;
  ASSERT_TRUE(iam_->bind_mfa_device(acct_, "bob", d->device.serial_number, iam::totp::hotp(seed, step - 1),
                                    iam::totp::hotp(seed, step))
                  .ok());
  auto pref = iam_->security_preference(acct_);
  ASSERT_TRUE(pref.ok());
  pref->enable_save_mfa_ticket = true;
  ASSERT_TRUE(iam_->set_security_preference(acct_, *pref).ok());
  const std::string no_code = R"({"login":"bob@acme","password":"bob-password-1"})";
  auto with_ticket = [&](const std::string& ticket) {
    extra_headers_ = {{"cookie", "sluice_mfa=" + ticket}};
    auto r = req("POST", "login", no_code);
    extra_headers_.clear();
    return r;
  };
  auto r = req("POST", "login", R"({"login":"bob@acme","password":"bob-password-1","mfaCode":")" +
                                    iam::totp::hotp(seed, step + 1) + R"("})");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string ticket;
  for (const auto& [k, v] : r.headers)
    if (k == "Set-Cookie" && v.starts_with("sluice_mfa=")) ticket = v.substr(11, v.find(';') - 11);
  ASSERT_FALSE(ticket.empty());
  EXPECT_EQ(code(req("POST", "login", no_code)), "MFARequired");
  EXPECT_EQ(with_ticket(ticket).status, 200);
  std::string tampered = ticket;
  tampered[tampered.size() - 1] = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(code(with_ticket(tampered)), "MFARequired");
  pref->enable_save_mfa_ticket = false;
  ASSERT_TRUE(iam_->set_security_preference(acct_, *pref).ok());
  EXPECT_EQ(code(with_ticket(ticket)), "MFARequired");
  pref->enable_save_mfa_ticket = true;
  ASSERT_TRUE(iam_->set_security_preference(acct_, *pref).ok());
  EXPECT_EQ(with_ticket(ticket).status, 200);
  g_now += 7 * 24 * 3600 + 1;
  EXPECT_EQ(code(with_ticket(ticket)), "MFARequired");
}

// Issue #14 item 3: a session is bound to the user's id and login generation.
TEST_F(ConsoleApiTest, SessionsEndWhenTheLoginChanges) {
  ASSERT_TRUE(iam_->create_user(acct_, iam::UserInput{"bob", "", ""}).ok());
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-1").ok());
  auto ended = [&](const Signed& s) {
    auto r = req("GET", "session", {}, s.cookie);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(code(r), "SessionEnded");
    EXPECT_EQ(req("GET", "session", {}, s.cookie).status, 401);
  };
  // A reset by an administrator.
  auto a = login("bob@acme", "bob-password-1");
  ASSERT_TRUE(iam_->update_login_profile(acct_, "bob", std::string("bob-password-2"), std::nullopt, std::nullopt).ok());
  ended(a);
  // Deleted and re-created with the same password.
  auto b = login("bob@acme", "bob-password-2");
  ASSERT_TRUE(iam_->delete_login_profile(acct_, "bob").ok());
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-2").ok());
  ended(b);
  // The user deleted and a new "bob" made: the old session is not the new bob.
  auto c = login("bob@acme", "bob-password-2");
  ASSERT_TRUE(iam_->delete_user(acct_, "bob").ok());
  ASSERT_TRUE(iam_->create_user(acct_, iam::UserInput{"bob", "", ""}).ok());
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-2").ok());
  auto r = req("POST", "call", R"({"product":"Ram","action":"ListUsers"})", c.cookie, c.csrf);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(code(r), "SessionEnded");
  // Logging out of an ended session still clears the cookie.
  auto d = login("bob@acme", "bob-password-2");
  ASSERT_TRUE(iam_->delete_login_profile(acct_, "bob").ok());
  r = req("POST", "logout", {}, d.cookie, d.csrf);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(header(r, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  audit_->flush();
  AuditQuery q;
  q.account_id = acct_;
  q.event_name = "ConsoleSignout";
  auto ev = audit_->lookup(q);
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(ev[0].error_code, "SessionEnded");
}

TEST_F(ConsoleApiTest, OwnPasswordChangeKeepsThisSessionAndEndsTheOthers) {
  ASSERT_TRUE(iam_->create_user(acct_, iam::UserInput{"bob", "", ""}).ok());
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-1").ok());
  auto here = login("bob@acme", "bob-password-1"), there = login("bob@acme", "bob-password-1");
  auto r = req("POST", "password", R"({"oldPassword":"bob-password-1","newPassword":"bob-password-2"})", here.cookie,
               here.csrf);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(req("GET", "session", {}, here.cookie).status, 200);
  EXPECT_EQ(code(req("GET", "session", {}, there.cookie)), "SessionEnded");
  // Root alike.
  auto root1 = login("acme", "password-123"), root2 = login("acme", "password-123");
  r = req("POST", "password", R"({"oldPassword":"password-123","newPassword":"password-456"})", root1.cookie,
          root1.csrf);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(req("GET", "session", {}, root1.cookie).status, 200);
  EXPECT_EQ(code(req("GET", "session", {}, root2.cookie)), "SessionEnded");
}

TEST_F(ConsoleApiTest, RenamedUserKeepsItsSessionUnderItsNewName) {
  ASSERT_TRUE(iam_->create_user(acct_, iam::UserInput{"bob", "", ""}).ok());
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-1").ok());
  auto s = login("bob@acme", "bob-password-1");
  ASSERT_TRUE(iam_->update_user(acct_, "bob", std::string("robert"), std::nullopt, std::nullopt).ok());
  auto r = req("GET", "session", {}, s.cookie);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("name":"robert")"), std::string::npos) << r.body;
  r = req("POST", "call", R"({"product":"Ram","action":"ListUsers"})", s.cookie, s.csrf);
  EXPECT_NE(r.body.find(R"("AuthPrincipalDisplayName":"robert")"), std::string::npos) << r.body;
}

// Issue #14 item 13: Secure behind a trusted TLS proxy; throttled per login name too.
TEST_F(ConsoleApiTest, SecureCookieOnlyBehindATrustedTlsProxy) {
  ConsoleOptions o;
  o.trusted_proxies = {"10.9.8.0/24"};
  api_ = make_console_api(std::shared_ptr<RpcEndpoint>(ep_.get(), [](RpcEndpoint*) {}), o);
  extra_headers_ = {{"x-forwarded-proto", "https"}, {"x-forwarded-for", "198.51.100.4"}};
  auto r = req("POST", "login", R"({"login":"acme","password":"password-123"})");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(header(r, "Set-Cookie").find("; HttpOnly; SameSite=Strict; Path=/; Secure; Max-Age="), std::string::npos)
      << header(r, "Set-Cookie");
  peer_ = "192.0.2.1";  // not a trusted proxy: its X-Forwarded-Proto is not believed
  r = req("POST", "login", R"({"login":"acme","password":"password-123"})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "Set-Cookie").find("Secure"), std::string::npos);
  audit_->flush();
  AuditQuery q;
  q.account_id = acct_;
  q.event_name = "ConsoleSignin";
  auto ev = audit_->lookup(q);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].source_ip, "192.0.2.1");
  EXPECT_EQ(ev[1].source_ip, "198.51.100.4");  // the client behind the trusted proxy
  o.trusted_proxies = {"not-an-address"};
  EXPECT_THROW(make_console_api(std::shared_ptr<RpcEndpoint>(ep_.get(), [](RpcEndpoint*) {}), o),
               std::invalid_argument);
}

TEST_F(ConsoleApiTest, ThrottledPerLoginNameFromAnyAddress) {
  ConsoleOptions o;
  o.login_failures_per_minute = 100;
  o.login_failures_per_name_per_minute = 3;
  api_ = make_console_api(std::shared_ptr<RpcEndpoint>(ep_.get(), [](RpcEndpoint*) {}), o);
  // The root by alias and by login name is one login.
  const char* spellings[] = {"acme", "acme@example.com", "acme"};
  for (int i = 0; i < 3; ++i) {
    peer_ = "10.0.0." + std::to_string(i);
    EXPECT_EQ(req("POST", "login", std::string(R"({"login":")") + spellings[i] + R"(","password":"wrong-pass"})").status,
              401);
  }
  peer_ = "10.0.0.99";
  auto r = req("POST", "login", R"({"login":"acme@example.com","password":"password-123"})");
  EXPECT_EQ(r.status, 429);
  EXPECT_FALSE(header(r, "Retry-After").empty());
  // Another login from the same addresses is not held back.
  ASSERT_TRUE(iam_->create_user(acct_, iam::UserInput{"bob", "", ""}).ok());
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-1").ok());
  peer_ = "10.0.0.1";
  EXPECT_EQ(req("POST", "login", R"({"login":"bob@acme","password":"bob-password-1"})").status, 200);
}

TEST_F(ConsoleApiTest, PolicyValidation) {
  auto s = login("acme", "password-123");
  auto r = req("POST", "policy/validate",
               R"({"document":"{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"mq:*\",\"Resource\":\"*\"}]}"})",
               s.cookie, s.csrf);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"valid":true})");
  r = req("POST", "policy/validate", R"({"document":"{\n  \"Version\": \"1\",\n  \"Statement\": [\n}"})", s.cookie, s.csrf);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("valid":false)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("line":4)"), std::string::npos) << r.body;
  r = req("POST", "policy/validate", R"({"document":"{}"})");
  EXPECT_EQ(r.status, 401);
}

// Issue 22 item 6: reads the console makes on its own ("background": true) are
// not audited; a background write, or a refused background read, is.
TEST_F(ConsoleApiTest, BackgroundReadsAreNotAudited) {
  auto s = login("acme", "password-123");
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(req("POST", "call", R"({"product":"Ram","action":"ListUsers","background":true})", s.cookie, s.csrf).status,
              200);
  ASSERT_EQ(req("POST", "call", R"({"product":"Ram","action":"ListUsers"})", s.cookie, s.csrf).status, 200);
  ASSERT_EQ(req("POST", "call", R"({"product":"Ram","action":"CreateUser","params":{"UserName":"bg"},"background":true})",
                s.cookie, s.csrf)
                .status,
            200);
  ASSERT_EQ(req("POST", "call", R"({"product":"Ram","action":"GetUser","params":{"UserName":"nobody"},"background":true})",
                s.cookie, s.csrf)
                .status,
            404);
  audit_->flush();
  AuditQuery q;
  q.account_id = acct_;
  q.event_name = "ListUsers";
  EXPECT_EQ(audit_->lookup(q).size(), 1u) << "only the person's own read";
  q.event_name = "CreateUser";
  EXPECT_EQ(audit_->lookup(q).size(), 1u) << "a write is always audited";
  q.event_name = "GetUser";
  EXPECT_EQ(audit_->lookup(q).size(), 1u) << "a refused read is audited";
  // ActionTrail's EventRW filter.
  q.event_name.reset();
  q.read = true;
  for (const auto& e : audit_->lookup(q)) EXPECT_TRUE(is_read_event(e.event_name)) << e.event_name;
  q.read = false;
  auto writes = audit_->lookup(q);
  EXPECT_FALSE(writes.empty());
  for (const auto& e : writes) EXPECT_FALSE(is_read_event(e.event_name)) << e.event_name;
  EXPECT_TRUE(is_read_event("DescribeMqttMetaData"));
  EXPECT_TRUE(is_read_event("BatchQuerySessionByClientIds"));
  EXPECT_FALSE(is_read_event("SendMessage"));
}

// Issue 22 item 8: a valid document naming an action a known service lacks is
// warned about (placed at the action); wildcards and unknown services are not.
TEST(ConsolePolicy, WarnsOnUnknownActionsOfKnownServices) {
  const std::string doc =
      "{\n  \"Version\": \"1\",\n  \"Statement\": [{\"Effect\": \"Allow\",\n    \"Action\": [\"mq:ListTopic\", "
      "\"mq:MqttMetaDta\", \"mq:Describe*\", \"ecs:Whatever\", \"ram:getuser\", \"mq:PUB\"], \"Resource\": \"*\"}]\n}";
  auto w = unknown_action_warnings(doc);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].message.find("mq:MqttMetaDta"), std::string::npos) << w[0].message;
  EXPECT_EQ(w[0].line, 4);
  EXPECT_EQ(w[0].column, 33);
  auto json = validate_policy_json(doc);
  EXPECT_NE(json.find(R"("valid":true,"warnings":[)"), std::string::npos) << json;
  EXPECT_TRUE(unknown_action_warnings(R"({"Version":"1","Statement":{"Effect":"Allow","Action":"mq:MqttMetaData","Resource":"*"}})").empty());
  EXPECT_EQ(unknown_action_warnings(R"({"Version":"1","Statement":{"Effect":"Deny","NotAction":"ram:CreateUsr","Resource":"*"}})").size(), 1u);
}

TEST(ConsolePolicy, PlacesSemanticErrors) {
  const std::string doc =
      "{\n  \"Version\": \"1\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"mq:*\", \"Resource\": \"*\"},\n"
      "    {\"Effect\": \"Maybe\", \"Action\": \"mq:*\", \"Resource\": \"*\"}\n  ]\n}";
  auto p = check_policy_document(doc);
  ASSERT_FALSE(p.message.empty());
  EXPECT_EQ(p.line, 5) << p.message;
  EXPECT_EQ(p.column, 6) << p.message;
}

}  // namespace
}  // namespace sluice::api
