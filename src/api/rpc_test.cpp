// The RPC endpoint end to end, without sockets: signed requests (V1 and V3,
// computed with the same functions the SDK vectors check) against a real store.
#include <gtest/gtest.h>

#include "api/audit.hpp"
#include "api/rpc.hpp"
#include "api/signature.hpp"
#include "iam/test_util.hpp"

namespace sluice::api {
namespace {

using iam::testing::g_now;

class RpcTest : public iam::testing::IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    acct_ = new_account();
    auto k = iam_->create_access_key(acct_, std::nullopt);
    ASSERT_TRUE(k.ok());
    root_id_ = k->key.id;
    root_secret_ = k->secret;
    audit_ = std::make_unique<AuditLog>(shared_store(), AuditOptions{});
    make_endpoint({});
  }
  void TearDown() override {
    ep_.reset();
    audit_.reset();
    IamFixture::TearDown();
  }
  std::shared_ptr<store::Store> shared_store() {
    // IamService owns the store through a shared_ptr; borrow it without owning.
    return std::shared_ptr<store::Store>(&iam_->store(), [](store::Store*) {});
  }
  void make_endpoint(RpcOptions o) {
    RpcServices s;
    s.iam = iam_.get();
    s.authz = authz_.get();
    s.audit = audit_.get();
    ep_ = std::make_unique<RpcEndpoint>(s, std::move(o));
  }

  HttpRequest v1(Params p, const std::string& id, const std::string& secret, const std::string& method = "GET",
                 std::optional<int64_t> ts = {}, std::string nonce = {}) {
    static int n = 0;
    p.insert(p.begin(), {{"Format", "JSON"},
                         {"AccessKeyId", id},
                         {"SignatureMethod", "HMAC-SHA1"},
                         {"SignatureVersion", "1.0"},
                         {"SignatureNonce", nonce.empty() ? "n-" + std::to_string(++n) : nonce},
                         {"Timestamp", format_timestamp(ts.value_or(g_now))}});
    std::string sig = v1_sign(secret, v1_string_to_sign(method, p));
    p.emplace_back("Signature", sig);
    HttpRequest r;
    r.method = method;
    r.path = "/";
    r.peer = "10.1.2.3";
    std::string q;
    for (const auto& [k, v] : p) q += (q.empty() ? "" : "&") + percent_encode(k) + "=" + percent_encode(v);
    if (method == "POST") {
      r.body = q;
      r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    } else {
      r.query = q;
    }
    r.target = "/?" + r.query;
    return r;
  }
  HttpRequest ram(Params p, const std::string& action) {
    p.insert(p.begin(), {{"Action", action}, {"Version", "2015-05-01"}});
    return v1(std::move(p), root_id_, root_secret_);
  }
  HttpRequest v3(const std::string& action, const std::string& version, Params q, const std::string& id,
                 const std::string& secret, const std::string& token = {}) {
    static int n = 0;
    HttpRequest r;
    r.method = "POST";
    r.path = "/";
    r.peer = "10.1.2.3";
    std::string hash = hex(sha256(""));
    r.headers = {{"host", "127.0.0.1:8080"},
                 {"x-acs-action", action},
                 {"x-acs-version", version},
                 {"x-acs-date", format_timestamp(g_now)},
                 {"x-acs-signature-nonce", "v3-" + std::to_string(++n)},
                 {"x-acs-content-sha256", hash}};
    if (!token.empty()) r.headers.emplace_back("x-acs-security-token", token);
    std::vector<std::string> names;
    for (const auto& [k, _] : r.headers) names.push_back(k);
    std::sort(names.begin(), names.end());
    std::string sig = v3_sign(secret, v3_string_to_sign(v3_canonical_request("POST", "/", q, r.headers, names, hash)));
    std::string sh;
    for (const auto& h : names) sh += (sh.empty() ? "" : ";") + h;
    r.headers.emplace_back("authorization", "ACS3-HMAC-SHA256 Credential=" + id + ",SignedHeaders=" + sh + ",Signature=" + sig);
    for (const auto& [k, v] : q) r.query += (r.query.empty() ? "" : "&") + percent_encode(k) + "=" + percent_encode(v);
    r.target = "/?" + r.query;
    return r;
  }
  static std::string code(const HttpResponse& r) {
    auto p = r.body.find("\"Code\":\"");
    if (p == std::string::npos) return "";
    return r.body.substr(p + 8, r.body.find('"', p + 8) - p - 8);
  }

  std::string acct_, root_id_, root_secret_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<RpcEndpoint> ep_;
};

TEST_F(RpcTest, CreateAndGetUserV1) {
  auto r = ep_->handle(ram({{"UserName", "alice"}, {"DisplayName", "Alice A"}}, "CreateUser"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"User\":{\"UserId\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"RequestId\":\""), std::string::npos);
  r = ep_->handle(ram({{"UserName", "alice"}}, "GetUser"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"DisplayName\":\"Alice A\""), std::string::npos);
  r = ep_->handle(ram({}, "ListUsers"));
  EXPECT_NE(r.body.find("\"Users\":{\"User\":[{"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"IsTruncated\":false"), std::string::npos) << r.body;
}

TEST_F(RpcTest, PostFormBodyV1) {
  auto req = v1({{"Action", "CreateGroup"}, {"Version", "2015-05-01"}, {"GroupName", "ops"}}, root_id_, root_secret_, "POST");
  auto r = ep_->handle(req);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(RpcTest, V3Header) {
  auto r = ep_->handle(v3("CreateUser", "2015-05-01", {{"UserName", "bob"}}, root_id_, root_secret_));
  ASSERT_EQ(r.status, 200) << r.body;
  auto bad = v3("CreateUser", "2015-05-01", {{"UserName", "bob2"}}, root_id_, root_secret_ + "x");
  r = ep_->handle(bad);
  EXPECT_EQ(code(r), "SignatureDoesNotMatch");
  // Tampering with a signed header after signing.
  auto t = v3("CreateUser", "2015-05-01", {{"UserName", "bob3"}}, root_id_, root_secret_);
  for (auto& [k, v] : t.headers)
    if (k == "x-acs-action") v = "DeleteUser";
  EXPECT_EQ(code(ep_->handle(t)), "SignatureDoesNotMatch");
  // Body not matching its declared hash.
  auto b = v3("CreateUser", "2015-05-01", {{"UserName", "bob4"}}, root_id_, root_secret_);
  b.body = "Comments=evil";
  EXPECT_EQ(code(ep_->handle(b)), "ContentSHA256NotMatch");
}

TEST_F(RpcTest, SignatureErrors) {
  auto r = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}}, root_id_, "wrong-secret"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code(r), "SignatureDoesNotMatch");
  EXPECT_NE(r.body.find("\"HostId\""), std::string::npos);
  r = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}}, "LTAInope", "x"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(code(r), "InvalidAccessKeyId.NotFound");
  // A parameter changed after signing.
  auto req = ram({{"UserName", "carol"}}, "CreateUser");
  req.query.replace(req.query.find("carol"), 5, "carl_");
  EXPECT_EQ(code(ep_->handle(req)), "SignatureDoesNotMatch");
  // Missing signature pieces.
  HttpRequest bare;
  bare.method = "GET";
  bare.path = "/";
  bare.query = "Action=ListUsers&Version=2015-05-01";
  EXPECT_EQ(code(ep_->handle(bare)), "MissingAccessKeyId");
}

TEST_F(RpcTest, TimestampWindow) {
  auto r = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}}, root_id_, root_secret_, "GET", g_now - 901));
  EXPECT_EQ(code(r), "InvalidTimeStamp.Expired");
  r = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}}, root_id_, root_secret_, "GET", g_now + 901));
  EXPECT_EQ(code(r), "InvalidTimeStamp.Expired");
  r = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}}, root_id_, root_secret_, "GET", g_now - 899));
  EXPECT_EQ(r.status, 200) << r.body;
  auto req = ram({}, "ListUsers");
  auto p = req.query.find("Timestamp=");
  req.query.replace(p + 10, 4, "20x4");
  EXPECT_EQ(code(ep_->handle(req)), "InvalidTimeStamp.Format");
}

TEST_F(RpcTest, NonceReplay) {
  auto req = ram({}, "ListUsers");
  EXPECT_EQ(ep_->handle(req).status, 200);
  auto r = ep_->handle(req);
  EXPECT_EQ(code(r), "SignatureNonceUsed");
  EXPECT_EQ(r.status, 400);
}

TEST_F(RpcTest, RoutingErrors) {
  auto r = ep_->handle(ram({}, "NoSuchAction"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(code(r), "InvalidAction.NotFound");
  r = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2099-01-01"}}, root_id_, root_secret_));
  EXPECT_EQ(code(r), "InvalidVersion");
  r = ep_->handle(ram({}, "GetUser"));
  EXPECT_EQ(code(r), "MissingUserName");
  EXPECT_NE(r.body.find("UserName is mandatory"), std::string::npos);
  auto dup = ram({{"UserName", "a"}}, "GetUser");
  dup.query += "&UserName=b";
  EXPECT_EQ(code(ep_->handle(dup)), "InvalidParameter.Duplicate");
  HttpRequest bad;
  bad.method = "GET";
  bad.path = "/";
  bad.query = "Action=ListUsers&Version=%zz";
  EXPECT_EQ(code(ep_->handle(bad)), "InvalidParameter");
}

TEST_F(RpcTest, MalformedPolicy) {
  auto r = ep_->handle(ram({{"PolicyName", "p1"}, {"PolicyDocument", "{\"Version\":\"1\",\"Statement\":[{"}}, "CreatePolicy"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code(r), "MalformedPolicyDocument") << r.body;
}

TEST_F(RpcTest, RamUserNeedsGrant) {
  ASSERT_OK(iam_->create_user(acct_, {"dev", "", ""}));
  auto k = iam_->create_access_key(acct_, std::string("dev"));
  ASSERT_TRUE(k.ok());
  auto r = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}}, k->key.id, k->secret));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(code(r), "NoPermission");
  EXPECT_NE(r.body.find("ram:ListUsers"), std::string::npos) << r.body;
  ASSERT_OK(iam_->attach_policy(acct_, {iam::PrincipalType::User, "dev"}, iam::PolicyType::System, "ReadOnlyAccess"));
  r = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}}, k->key.id, k->secret));
  EXPECT_EQ(r.status, 200) << r.body;
  r = ep_->handle(v1({{"Action", "CreateUser"}, {"Version", "2015-05-01"}, {"UserName", "x"}}, k->key.id, k->secret));
  EXPECT_EQ(code(r), "NoPermission");
  // GetCallerIdentity needs no grant.
  r = ep_->handle(v1({{"Action", "GetCallerIdentity"}, {"Version", "2015-04-01"}}, k->key.id, k->secret));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"IdentityType\":\"RAMUser\""), std::string::npos);
  // Inactive key.
  ASSERT_OK(iam_->update_access_key(acct_, std::string("dev"), k->key.id, iam::KeyStatus::Inactive));
  r = ep_->handle(v1({{"Action", "GetCallerIdentity"}, {"Version", "2015-04-01"}}, k->key.id, k->secret));
  EXPECT_EQ(code(r), "InvalidAccessKeyId.Inactive");
}

TEST_F(RpcTest, AssumeRoleAndStsKeys) {
  std::string trust = R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::)" + acct_ + R"(:root"]}}]})";
  auto r = ep_->handle(ram({{"RoleName", "reader"}, {"AssumeRolePolicyDocument", trust}}, "CreateRole"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_OK(iam_->attach_policy(acct_, {iam::PrincipalType::Role, "reader"}, iam::PolicyType::System, "ReadOnlyAccess"));
  auto role = iam_->get_role(acct_, "reader");
  ASSERT_TRUE(role.ok());
  r = ep_->handle(v1({{"Action", "AssumeRole"}, {"Version", "2015-04-01"}, {"RoleArn", role->arn}, {"RoleSessionName", "s1"}},
                     root_id_, root_secret_));
  ASSERT_EQ(r.status, 200) << r.body;
  auto field = [&](const std::string& name) {
    auto p = r.body.find("\"" + name + "\":\"");
    return r.body.substr(p + name.size() + 4, r.body.find('"', p + name.size() + 4) - p - name.size() - 4);
  };
  std::string id = field("AccessKeyId"), secret = field("AccessKeySecret"), token = field("SecurityToken");
  ASSERT_EQ(id.rfind("STS.", 0), 0u);
  auto ok = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}, {"SecurityToken", token}}, id, secret));
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto no_token = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}}, id, secret));
  EXPECT_EQ(code(no_token), "MissingSecurityToken");
  auto bad_token = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}, {"SecurityToken", "x"}}, id, secret));
  EXPECT_EQ(code(bad_token), "InvalidSecurityToken.MismatchWithAccessKey");
  auto v3ok = ep_->handle(v3("GetCallerIdentity", "2015-04-01", {}, id, secret, token));
  EXPECT_EQ(v3ok.status, 200) << v3ok.body;
  EXPECT_NE(v3ok.body.find("AssumedRoleUser"), std::string::npos);
  auto denied = ep_->handle(v1({{"Action", "CreateUser"}, {"Version", "2015-05-01"}, {"UserName", "z"}, {"SecurityToken", token}}, id, secret));
  EXPECT_EQ(code(denied), "NoPermission");
  g_now += 4000;  // past the default 3600 s
  auto expired = ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}, {"SecurityToken", token}}, id, secret));
  EXPECT_EQ(code(expired), "InvalidSecurityToken.Expired") << expired.body;
}

TEST_F(RpcTest, ResourceManagerScopes) {
  auto r = ep_->handle(v1({{"Action", "CreateResourceGroup"}, {"Version", "2020-03-31"}, {"Name", "prod"}, {"DisplayName", "Prod"}},
                          root_id_, root_secret_));
  ASSERT_EQ(r.status, 200) << r.body;
  auto p = r.body.find("\"Id\":\"");
  std::string rg = r.body.substr(p + 6, r.body.find('"', p + 6) - p - 6);
  ASSERT_OK(iam_->create_user(acct_, {"pub", "", ""}));
  r = ep_->handle(v1({{"Action", "AttachPolicy"}, {"Version", "2020-03-31"}, {"ResourceGroupId", rg}, {"PolicyType", "System"},
                      {"PolicyName", "AliyunMQPubOnlyAccess"}, {"PrincipalType", "IMSUser"}, {"PrincipalName", "pub@acme.onaliyun.com"}},
                     root_id_, root_secret_));
  ASSERT_EQ(r.status, 200) << r.body;
  r = ep_->handle(v1({{"Action", "ListPolicyAttachments"}, {"Version", "2020-03-31"}, {"ResourceGroupId", rg}}, root_id_, root_secret_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"PolicyName\":\"AliyunMQPubOnlyAccess\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"TotalCount\":1"), std::string::npos) << r.body;
  // Account scope via the account id.
  r = ep_->handle(v1({{"Action", "AttachPolicy"}, {"Version", "2020-03-31"}, {"ResourceGroupId", acct_}, {"PolicyType", "System"},
                      {"PolicyName", "ReadOnlyAccess"}, {"PrincipalType", "IMSUser"}, {"PrincipalName", "pub"}},
                     root_id_, root_secret_));
  ASSERT_EQ(r.status, 200) << r.body;
  auto atts = iam_->list_attachments(acct_);
  ASSERT_TRUE(atts.ok());
  EXPECT_EQ(atts->size(), 2u);
}

TEST_F(RpcTest, ActivationAndAuditLookup) {
  auto r = ep_->handle(v1({{"Action", "OpenOnsService"}, {"Version", "2019-02-14"}}, root_id_, root_secret_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(iam_->service_active(acct_, "mq").value());
  (void)ep_->handle(ram({{"UserName", "u1"}}, "CreateUser"));
  (void)ep_->handle(ram({{"UserName", "u1"}, {"Password", "Secret-pass-1"}}, "CreateLoginProfile"));
  (void)ep_->handle(v1({{"Action", "ListUsers"}, {"Version", "2015-05-01"}}, root_id_, "bad"));
  r = ep_->handle(v1({{"Action", "LookupEvents"}, {"Version", "2020-07-06"}}, root_id_, root_secret_));
  ASSERT_EQ(r.status, 200) << r.body;
  for (const char* name : {"OpenOnsService", "CreateUser", "CreateLoginProfile", "SignatureDoesNotMatch"})
    EXPECT_NE(r.body.find(name), std::string::npos) << name << " in " << r.body;
  EXPECT_EQ(r.body.find("Secret-pass-1"), std::string::npos) << "password must be masked";
  EXPECT_NE(r.body.find("\"Password\":\"******\""), std::string::npos);
  r = ep_->handle(v1({{"Action", "LookupEvents"}, {"Version", "2020-07-06"}, {"LookupAttribute.1.Key", "EventName"},
                      {"LookupAttribute.1.Value", "CreateUser"}, {"MaxResults", "1"}},
                     root_id_, root_secret_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("CreateLoginProfile"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"eventName\":\"CreateUser\""), std::string::npos) << r.body;
}

TEST_F(RpcTest, RateLimit) {
  RpcOptions o;
  o.rate_limits = {{"GetAccountSummary", 3}};
  make_endpoint(o);
  int ok = 0, throttled = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = ep_->handle(ram({}, "GetAccountSummary"));
    if (r.status == 200) ++ok;
    if (code(r) == "Throttling.User") ++throttled;
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(throttled, 7);
}

TEST_F(RpcTest, EveryOperationRejectsAnUnauthorizedUser) {
  // A RAM user with no grants reaches every operation and is refused by its own
  // authorization check (or its parameter validation) — never served.
  ASSERT_OK(iam_->create_user(acct_, {"nobody", "", ""}));
  auto k = iam_->create_access_key(acct_, std::string("nobody"));
  ASSERT_TRUE(k.ok());
  for (const auto* op : all_operations().all()) {
    if (op->action == "GetCallerIdentity") continue;
    auto r = ep_->handle(v1({{"Action", op->action}, {"Version", op->version}}, k->key.id, k->secret));
    EXPECT_NE(r.status, 200) << op->action << ": " << r.body;
    EXPECT_NE(r.status, 500) << op->action << ": " << r.body;
  }
}

}  // namespace
}  // namespace sluice::api
