// OnsMqtt over a real MqService: activation gate, per-operation actions plus
// mq:MqttInstanceAccess, resource-group scope, tokens, ListInstances visibility.
#include "api/rpc_test_util.hpp"

namespace sluice::api {
namespace {

using namespace sluice::api::testing;
using iam::testing::g_now;

int64_t mq_clock() { return g_now * 1000; }

class OnsMqttTest : public RpcTest {
 protected:
  void SetUp() override {
    RpcTest::SetUp();
    mq_ = std::make_unique<mq::MqService>(shared_store(), *iam_, mq::MqOptions{}, &mq_clock);
    make_endpoint({});
  }
  HttpResponse call(const std::string& action, Params p, const std::string& id = {}, const std::string& secret = {}) {
    p.insert(p.begin(), {{"Action", action}, {"Version", "2020-04-20"}});
    return ep_->handle(v1(std::move(p), id.empty() ? root_id_ : id, secret.empty() ? root_secret_ : secret));
  }
  std::string field(const std::string& body, const std::string& name) {
    auto p = body.find("\"" + name + "\":\"");
    if (p == std::string::npos) return "";
    return body.substr(p + name.size() + 4, body.find('"', p + name.size() + 4) - p - name.size() - 4);
  }
  std::string setup_instance() {
    auto r = ep_->handle(v1({{"Action", "OpenOnsService"}, {"Version", "2019-02-14"}}, root_id_, root_secret_));
    EXPECT_EQ(r.status, 200) << r.body;
    r = call("CreateInstance", {{"InstanceName", "prod"}});
    EXPECT_EQ(r.status, 200) << r.body;
    std::string inst = field(r.body, "InstanceId");
    EXPECT_EQ(call("CreateTopic", {{"InstanceId", inst}, {"Topic", "Sensors"}}).status, 200);
    EXPECT_EQ(call("CreateGroupId", {{"InstanceId", inst}, {"GroupId", "GID_dev"}}).status, 200);
    return inst;
  }
};

TEST_F(OnsMqttTest, NeedsActivation) {
  auto r = call("CreateInstance", {{"InstanceName", "x"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(code(r), "Forbidden.ServiceNotActivated");
  EXPECT_NE(r.body.find("OpenOnsService"), std::string::npos);
}

TEST_F(OnsMqttTest, RootLifecycle) {
  auto inst = setup_instance();
  auto r = call("ListGroupId", {{"InstanceId", inst}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"GroupId\":\"GID_dev\""), std::string::npos) << r.body;
  r = call("ListTopic", {{"InstanceId", inst}});
  EXPECT_NE(r.body.find("\"Topic\":\"Sensors\""), std::string::npos) << r.body;
  r = call("ListInstances", {});
  EXPECT_NE(r.body.find(inst), std::string::npos) << r.body;
  r = call("CreateGroupId", {{"InstanceId", inst}, {"GroupId", "bad group"}});
  EXPECT_EQ(r.status / 100, 4) << r.body;
  r = call("ListGroupId", {{"InstanceId", "mqtt-local-nope"}});
  EXPECT_EQ(r.status / 100, 4) << r.body;
  EXPECT_NE(r.status, 500);
}

TEST_F(OnsMqttTest, Tokens) {
  auto inst = setup_instance();
  auto r = call("ApplyToken", {{"InstanceId", inst}, {"Resources", "Sensors/a,Sensors/b"}, {"Actions", "R,W"},
                               {"ExpireTime", std::to_string(g_now * 1000 + 3'600'000)}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string token = field(r.body, "Token");
  ASSERT_FALSE(token.empty());
  r = call("QueryToken", {{"InstanceId", inst}, {"Token", token}});
  EXPECT_NE(r.body.find("\"TokenStatus\":true"), std::string::npos) << r.body;
  EXPECT_EQ(call("RevokeToken", {{"InstanceId", inst}, {"Token", token}}).status, 200);
  r = call("QueryToken", {{"InstanceId", inst}, {"Token", token}});
  EXPECT_NE(r.body.find("\"TokenStatus\":false"), std::string::npos) << r.body;
  r = call("ApplyToken", {{"InstanceId", inst}, {"Resources", "Sensors/a"}, {"Actions", "R"}});
  EXPECT_EQ(code(r), "MissingExpireTime");
}

TEST_F(OnsMqttTest, RamUserNeedsOperationAndInstanceAccess) {
  auto inst = setup_instance();
  ASSERT_OK(iam_->create_user(acct_, {"dev", "", ""}));
  auto k = iam_->create_access_key(acct_, std::string("dev"));
  ASSERT_TRUE(k.ok());
  std::string rg = iam_->resource_group_of(acct_, "instance", inst);
  ASSERT_FALSE(rg.empty());
  ASSERT_OK(iam_->attach_policy(acct_, {iam::PrincipalType::User, "dev"}, iam::PolicyType::System,
                                "AliyunMQPubOnlyAccess", rg));
  auto r = call("ListGroupId", {{"InstanceId", inst}}, k->key.id, k->secret);
  EXPECT_EQ(code(r), "NoPermission") << r.body;
  EXPECT_NE(r.body.find("mq:ListGroupId"), std::string::npos) << r.body;
  ASSERT_OK(iam_->create_policy(acct_, "ListGroups",
                                R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["mq:ListGroupId"],"Resource":"*"}]})"));
  ASSERT_OK(iam_->attach_policy(acct_, {iam::PrincipalType::User, "dev"}, iam::PolicyType::Custom, "ListGroups", rg));
  r = call("ListGroupId", {{"InstanceId", inst}}, k->key.id, k->secret);
  EXPECT_EQ(r.status, 200) << r.body;
  // Without instance access (policy only on the operation), refused on mq:MqttInstanceAccess.
  ASSERT_OK(iam_->detach_policy(acct_, {iam::PrincipalType::User, "dev"}, iam::PolicyType::System,
                                "AliyunMQPubOnlyAccess", rg));
  r = call("ListGroupId", {{"InstanceId", inst}}, k->key.id, k->secret);
  EXPECT_EQ(code(r), "NoPermission");
  EXPECT_NE(r.body.find("mq:MqttInstanceAccess"), std::string::npos) << r.body;
}

TEST_F(OnsMqttTest, ReadOnlyListsNothing) {
  auto inst = setup_instance();
  ASSERT_OK(iam_->create_user(acct_, {"ro", "", ""}));
  auto k = iam_->create_access_key(acct_, std::string("ro"));
  ASSERT_TRUE(k.ok());
  ASSERT_OK(iam_->attach_policy(acct_, {iam::PrincipalType::User, "ro"}, iam::PolicyType::System, "AliyunMQReadOnlyAccess"));
  auto r = call("ListInstances", {}, k->key.id, k->secret);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(inst), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("mq:MqttInstanceAccess"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace sluice::api

namespace sluice::api {
namespace {

// In-process cost of one authorized ListGroupId (signature check, nonce cache,
// two policy decisions, the query, the JSON, the audit record) — no sockets.
TEST_F(OnsMqttTest, ListGroupIdCost) {
  auto inst = setup_instance();
  ASSERT_OK(iam_->create_user(acct_, {"dev", "", ""}));
  auto k = iam_->create_access_key(acct_, std::string("dev"));
  ASSERT_TRUE(k.ok());
  ASSERT_OK(iam_->attach_policy(acct_, {iam::PrincipalType::User, "dev"}, iam::PolicyType::System, "AliyunMQFullAccess"));
  const int n = 5000;
  std::vector<HttpRequest> reqs;
  for (int i = 0; i < n; ++i)
    reqs.push_back(v1({{"Action", "ListGroupId"}, {"Version", "2020-04-20"}, {"InstanceId", inst}}, k->key.id, k->secret));
  auto t0 = std::chrono::steady_clock::now();
  for (auto& r : reqs) ASSERT_EQ(ep_->handle(r).status, 200);
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
  std::printf("ListGroupId in-process: %.1f us per call\n", us);
  EXPECT_LT(us, 2000.0);  // a sanity bound for loaded CI machines, not the benchmark
}

}  // namespace
}  // namespace sluice::api

namespace sluice::api {
namespace {

// The root account (allowed everything in its account) calls every operation
// with no parameters, then with junk: each is answered 2xx/4xx, never a 500.
TEST_F(OnsMqttTest, EveryOperationWithoutParametersIsAClientError) {
  (void)setup_instance();
  for (const auto* op : all_operations().all()) {
    for (const Params& p : {Params{}, Params{{"InstanceId", "x"}, {"UserName", "\x01"}, {"PageSize", "-1"},
                                             {"MaxItems", "99999"}, {"Resources.1.ResourceId", ""}}}) {
      Params q = p;
      q.insert(q.begin(), {{"Action", op->action}, {"Version", op->version}});
      auto r = ep_->handle(v1(q, root_id_, root_secret_));
      EXPECT_LT(r.status, 500) << op->action << ": " << r.body;
      EXPECT_NE(r.body.find("\"RequestId\""), std::string::npos) << op->action;
    }
  }
}

TEST_F(OnsMqttTest, AuditRetentionAndMasking) {
  AuditEvent old;
  old.time_ms = (g_now - 91 * 86400) * 1000;
  old.event_type = "ApiCall";
  old.event_name = "Old";
  old.account_id = acct_;
  audit_->record(old);
  (void)ep_->handle(ram({{"UserName", "u"}, {"Password", "P4ssw0rd-secret"}}, "CreateLoginProfile"));
  audit_->flush();
  EXPECT_EQ(audit_->prune(g_now * 1000), 1u);
  AuditQuery q;
  q.account_id = acct_;
  auto evs = audit_->lookup(q);
  ASSERT_FALSE(evs.empty());
  for (const auto& e : evs) {
    EXPECT_NE(e.event_name, "Old");
    EXPECT_EQ(e.parameters.find("P4ssw0rd-secret"), std::string::npos);
  }
  EXPECT_TRUE(is_secret_parameter("AccessKeySecret"));
  EXPECT_TRUE(is_secret_parameter("SecurityToken"));
  EXPECT_TRUE(is_secret_parameter("Token"));
  EXPECT_FALSE(is_secret_parameter("UserName"));
}

}  // namespace
}  // namespace sluice::api
