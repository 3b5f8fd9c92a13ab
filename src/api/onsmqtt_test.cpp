// OnsMqtt over a real MqService: activation gate, per-operation actions plus
// mq:MqttInstanceAccess, resource-group scope, tokens, ListInstances visibility.
#include "api/rpc_test_util.hpp"
#include "broker/message.hpp"

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

// Issue #14 item 4: mq:Get* (AliyunMQReadOnlyAccess) does not return a device secret;
// mq:RegisterDeviceCredential on the instance (the action that mints one) is needed too.
TEST_F(OnsMqttTest, DeviceSecretOnlyToPrincipalsAllowedToMintOne) {
  auto inst = setup_instance();
  auto r = call("RegisterDeviceCredential", {{"InstanceId", inst}, {"ClientId", "GID_dev@@@d1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string secret = field(r.body, "DeviceAccessKeySecret");
  ASSERT_FALSE(secret.empty());
  ASSERT_OK(iam_->create_user(acct_, {"ro", "", ""}));
  auto k = iam_->create_access_key(acct_, std::string("ro"));
  ASSERT_TRUE(k.ok());
  ASSERT_OK(iam_->attach_policy(acct_, {iam::PrincipalType::User, "ro"}, iam::PolicyType::System, "AliyunMQReadOnlyAccess"));
  r = call("GetDeviceCredential", {{"InstanceId", inst}, {"ClientId", "GID_dev@@@d1"}}, k->key.id, k->secret);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.body.find(secret), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("AuthAction":"mq:RegisterDeviceCredential")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("AuthResource":"acs:mq:*:)" + acct_ + ":instance/" + inst + "\""), std::string::npos)
      << r.body;
  // Refused before anything is looked up: an unknown client id answers the same.
  auto unknown = call("GetDeviceCredential", {{"InstanceId", inst}, {"ClientId", "GID_dev@@@nobody"}}, k->key.id, k->secret);
  EXPECT_EQ(unknown.status, 403) << unknown.body;
  ASSERT_OK(iam_->create_policy(acct_, "Mint", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:RegisterDeviceCredential","Resource":"*"}]})"));
  ASSERT_OK(iam_->attach_policy(acct_, {iam::PrincipalType::User, "ro"}, iam::PolicyType::Custom, "Mint"));
  r = call("GetDeviceCredential", {{"InstanceId", inst}, {"ClientId", "GID_dev@@@d1"}}, k->key.id, k->secret);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(field(r.body, "DeviceAccessKeySecret"), secret);
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
  EXPECT_TRUE(is_secret_parameter("TargetConfig"));  // a data rule's: may hold a webhook Secret
  EXPECT_FALSE(is_secret_parameter("UserName"));
}

}  // namespace
}  // namespace sluice::api

namespace sluice::api {
namespace {

// SendMessage hands the message to the broker through RpcServices::publish
// (net::Server in the real server; captured here).
class OnsMqttSendTest : public OnsMqttTest {
 protected:
  void SetUp() override {
    OnsMqttTest::SetUp();
    RpcServices s = ep_->services();
    s.publish = [this](const std::string& ns, std::shared_ptr<const broker::Message> m, const std::string& origin) {
      if (ns == "mqtt-local-gone") return false;
      sent_.push_back({ns, m->topic, m->payload, origin, m->qos});
      return true;
    };
    s.counters = [](const std::string&) { return RpcServices::NamespaceCounters{2, 3, 5, 7}; };
    ep_ = std::make_unique<RpcEndpoint>(s, RpcOptions{});
  }
  struct Sent {
    std::string ns, topic, payload, origin;
    uint8_t qos;
  };
  std::vector<Sent> sent_;
};

TEST_F(OnsMqttSendTest, SendMessagePublishesWithQos1) {
  auto inst = setup_instance();
  auto r = call("SendMessage", {{"InstanceId", inst}, {"MqttTopic", "Sensors/room1"}, {"Payload", "hello"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(field(r.body, "MsgId").size(), 24u) << r.body;
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].ns, inst);
  EXPECT_EQ(sent_[0].topic, "Sensors/room1");
  EXPECT_EQ(sent_[0].payload, "hello");
  EXPECT_EQ(sent_[0].qos, 1);
  // P2P topics are ordinary publishes here: the broker routes them.
  EXPECT_EQ(call("SendMessage", {{"InstanceId", inst}, {"MqttTopic", "Sensors/p2p/GID_dev@@@d1"}, {"Payload", "x"}}).status, 200);
  EXPECT_EQ(code(call("SendMessage", {{"InstanceId", inst}, {"MqttTopic", "Sensors/#"}, {"Payload", "x"}})),
            "InvalidParameter.MqttTopic");
  EXPECT_EQ(code(call("SendMessage", {{"InstanceId", inst}, {"MqttTopic", "Nope/a"}, {"Payload", "x"}})),
            "InvalidParameter.MqttTopic");
  EXPECT_EQ(code(call("SendMessage", {{"InstanceId", inst}, {"MqttTopic", "Sensors/a"}})), "MissingPayload");
  EXPECT_EQ(call("SendMessage", {{"InstanceId", "mqtt-local-nope"}, {"MqttTopic", "Sensors/a"}, {"Payload", "x"}}).status / 100, 4);
  EXPECT_EQ(sent_.size(), 2u);
}

TEST_F(OnsMqttSendTest, SendMessageNeedsPubOnTheTopic) {
  auto inst = setup_instance();
  ASSERT_OK(iam_->create_user(acct_, {"ro", "", ""}));
  auto k = iam_->create_access_key(acct_, std::string("ro"));
  ASSERT_TRUE(k.ok());
  ASSERT_OK(iam_->attach_policy(acct_, {iam::PrincipalType::User, "ro"}, iam::PolicyType::System, "AliyunMQSubOnlyAccess"));
  auto r = call("SendMessage", {{"InstanceId", inst}, {"MqttTopic", "Sensors/a"}, {"Payload", "x"}}, k->key.id, k->secret);
  EXPECT_EQ(code(r), "NoPermission") << r.body;
  EXPECT_NE(r.body.find(R"("AuthAction":"mq:PUB")"), std::string::npos) << r.body;
  ASSERT_OK(iam_->attach_policy(acct_, {iam::PrincipalType::User, "ro"}, iam::PolicyType::System, "AliyunMQPubOnlyAccess"));
  r = call("SendMessage", {{"InstanceId", inst}, {"MqttTopic", "Sensors/a"}, {"Payload", "x"}}, k->key.id, k->secret);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(OnsMqttSendTest, DescribeMqttMetaData) {
  auto inst = setup_instance();
  auto r = call("DescribeMqttMetaData", {});
  ASSERT_EQ(r.status, 200) << r.body;
  for (const char* f : {R"("InstanceCount":1)", R"("TopicCount":1)", R"("GroupCount":1)", R"("OnlineClientCount":2)",
                        R"("SubscriptionCount":3)", R"("MessagesIn":5)", R"("MessagesOut":7)", "\"Timestamp\":"})
    EXPECT_NE(r.body.find(f), std::string::npos) << f << " in " << r.body;
  EXPECT_NE(r.body.find(R"("Instances":[{"InstanceId":")" + inst), std::string::npos) << r.body;
  ASSERT_OK(iam_->create_user(acct_, {"ro", "", ""}));
  auto k = iam_->create_access_key(acct_, std::string("ro"));
  ASSERT_TRUE(k.ok());
  r = call("DescribeMqttMetaData", {}, k->key.id, k->secret);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find(R"("AccessDeniedDetail":{"AuthAction":"mq:MqttMetaData","AuthResource":"acs:mq:*:)" + acct_ +
                        R"(:*","NoPermissionType":"ImplicitDeny")"),
            std::string::npos)
      << r.body;
}

}  // namespace
}  // namespace sluice::api
