// Unit tests of the ApsaraMQ layer: signatures (the SPEC test vector), topic
// filters, the MqService operations and their persistence, and the access
// control of every authentication mode against a real store and Authorizer.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "broker/broker.hpp"
#include "iam/test_util.hpp"
#include "mq/auth_modes.hpp"
#include "mq/mq_access.hpp"
#include "mq/mq_service.hpp"
#include "mq/signature.hpp"

using namespace sluice;
using namespace sluice::mq;
using iam::PolicyType;
using iam::PrincipalType;
using sluice::iam::testing::g_now;

namespace {

int64_t g_offset_ms = 0;
int64_t mq_clock() { return g_now * 1000 + g_offset_ms; }

struct RecordingAudit : AuditSink {
  std::vector<AuditEvent> events;
  std::mutex mu;
  void record(const AuditEvent& e) override {
    std::lock_guard lk(mu);
    events.push_back(e);
  }
};

class MqFixture : public iam::testing::IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    g_offset_ms = 0;
    open_mq();
    acct = new_account("acme");
    ASSERT_OK(iam_->activate_service(acct, "mq"));
    auto i = mq_->CreateInstance(acct, InstanceSpec{"demo", "", "", std::nullopt, ""});
    ASSERT_TRUE(i.ok()) << i.error().message;
    inst = i->id;
    ASSERT_OK(mq_->CreateTopic(acct, inst, "Sensors"));
    ASSERT_OK(mq_->CreateGroupId(acct, inst, "GID_dev"));
    auto k = iam_->create_access_key(acct, std::nullopt);
    ASSERT_TRUE(k.ok());
    root_key = k->key.id;
    root_secret = k->secret;
  }
  void TearDown() override {
    ac_.reset();
    mq_.reset();
    broker_.reset();
    IamFixture::TearDown();
  }
  void open_mq() {
    ac_.reset();
    mq_.reset();
    broker_ = std::make_unique<broker::Broker>(1);
    mq_ = std::make_unique<MqService>(shared_store(), *iam_,
                                      MqOptions{}, &mq_clock);
    // The wiring keeps one namespace per instance (app/mq_binding.cpp, tested
    // there with each instance's limits); here plain ones do.
    mq_->on_snapshot([b = broker_.get()](const MqState& s) {
      for (const auto& kv : s.instances) b->get_or_create(kv.first);
    });
    audit = std::make_shared<RecordingAudit>();
    AccessOptions ao;
    ao.default_instance = "";
    ao.auth_fail_burst = 1000;
    ac_ = std::make_unique<MqAccessControl>(*broker_, *mq_, *authz_, ao, audit);
  }
  std::shared_ptr<store::Store> shared_store() {
    // The IamService owns the store through a shared_ptr; share it (non-owning alias is fine:
    // the IamService outlives the MqService in these tests).
    return std::shared_ptr<store::Store>(&iam_->store(), [](store::Store*) {});
  }
  broker::Admission connect(std::string user, std::string pass, std::string client_id,
                            std::string server_name = "", std::string peer = "10.0.0.1") {
    // ConnectInfo holds views: keep the strings alive (a deque never moves them).
    strings_.push_back(std::move(user));
    const std::string& u = strings_.back();
    strings_.push_back(std::move(pass));
    const std::string& p = strings_.back();
    strings_.push_back(std::move(client_id));
    const std::string& c = strings_.back();
    strings_.push_back(std::move(server_name));
    const std::string& sn = strings_.back();
    strings_.push_back(std::move(peer));
    const std::string& pe = strings_.back();
    broker::ConnectInfo ci;
    ci.version = mqtt::Version::V5;
    ci.client_id = c;
    if (!u.empty()) ci.username = std::string_view(u);
    ci.password = std::string_view(p);
    ci.peer_address = pe;
    ci.server_name = sn;
    return ac_->admit(ci);
  }
  broker::Admission sig(const std::string& key, const std::string& secret, const std::string& cid,
                        const std::string& instance = "") {
    return connect("Signature|" + key + "|" + (instance.empty() ? inst : instance), sign_client_id(secret, cid),
                   cid);
  }
  std::string acct, inst, root_key, root_secret;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<MqService> mq_;
  std::unique_ptr<MqAccessControl> ac_;
  std::shared_ptr<RecordingAudit> audit;
  std::deque<std::string> strings_;
};

}  // namespace

TEST(Signature, SpecTestVector) {
  EXPECT_EQ(sign_client_id("XXXXX", "GID_Test@@@0001"), "vI009IZJZVGRwBwZvnbwjfuXxVM=");
  EXPECT_TRUE(secret_equal("abc", "abc"));
  EXPECT_FALSE(secret_equal("abd", "abc"));
  EXPECT_FALSE(secret_equal("ab", "abc"));
}

TEST(Filters, MatchCoverParentGroup) {
  EXPECT_TRUE(filter_matches("a/+/c", "a/b/c"));
  EXPECT_TRUE(filter_matches("a/#", "a"));
  EXPECT_TRUE(filter_matches("a/#", "a/b/c"));
  EXPECT_FALSE(filter_matches("a/+", "a/b/c"));
  EXPECT_FALSE(filter_matches("#", "$SYS/x"));
  EXPECT_TRUE(filter_covers("a/#", "a/+/c"));
  EXPECT_TRUE(filter_covers("a/+/c", "a/b/c"));
  EXPECT_FALSE(filter_covers("a/+/c", "a/#"));
  EXPECT_FALSE(filter_covers("a/b", "a/+"));
  EXPECT_EQ(parent_of("Sensors/a/b"), "Sensors");
  EXPECT_EQ(parent_of("$share/g/Sensors/#"), "Sensors");
  EXPECT_EQ(group_of_client("GID_x@@@1"), "GID_x");
  EXPECT_EQ(group_of_client("plain"), "");
  EXPECT_TRUE(valid_group_id("GID_abc"));
  EXPECT_TRUE(valid_group_id("GID-abc"));
  EXPECT_FALSE(valid_group_id("GID_ab"));     // 6 chars
  EXPECT_FALSE(valid_group_id("XID_abcd"));
  EXPECT_FALSE(valid_group_id("GID_a.bc"));
  EXPECT_FALSE(valid_group_id("GID_" + std::string(61, 'a')));
}

TEST_F(MqFixture, InstancesNeedActivationAndRegisterAsResources) {
  auto other = new_account("other");
  EXPECT_CODE(mq_->CreateInstance(other, InstanceSpec{"x", "", "", std::nullopt, ""}), "Forbidden.ServiceNotActivated");
  EXPECT_EQ(inst.rfind("mqtt-local-", 0), 0u) << inst;
  EXPECT_FALSE(iam_->resource_group_of(acct, "instance", inst).empty());
  EXPECT_CODE(mq_->CreateTopic(acct, inst, "Sensors"), "EntityAlreadyExists.Topic");
  EXPECT_CODE(mq_->CreateTopic(acct, inst, "a/b"), "InvalidParameter.Topic");
  EXPECT_CODE(mq_->CreateGroupId(acct, inst, "GRP_abcd"), "InvalidParameter.GroupId");
  EXPECT_CODE(mq_->CreateTopic(other, inst, "T"), "EntityNotExist.Instance");  // across accounts
  InstanceSettings s;
  s.strict_topic = false;
  auto u = mq_->UpdateInstance(acct, inst, std::string("renamed"), std::nullopt, s);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "renamed");
  ASSERT_OK(mq_->TagResources(acct, "instance", {inst}, {Tag{"env", "prod"}}));
  auto l = mq_->ListInstances(acct, {TagFilter{"env", "prod"}});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->size(), 1u);
  EXPECT_EQ(mq_->ListInstances(acct, {TagFilter{"env", "dev"}})->size(), 0u);
}

TEST_F(MqFixture, EverythingSurvivesARestart) {
  auto tok = mq_->ApplyToken(acct, inst, {"Sensors/#"}, "R,W", mq_clock() + 3600'000);
  ASSERT_TRUE(tok.ok());
  auto dc = mq_->RegisterDeviceCredential(acct, inst, "GID_dev@@@d1");
  ASSERT_TRUE(dc.ok());
  EXPECT_EQ(dc->device_access_key_id.rfind("DC.", 0), 0u);
  ASSERT_OK(mq_->AddCustomAuthIdentity(acct, inst, "alice", "USER", "", "s3cret", "ORIGIN"));
  ASSERT_OK(mq_->AddCustomAuthPermission(acct, inst, "alice", "USER", "Sensors/#", "PUB_SUB", "ALLOW"));
  ASSERT_OK(mq_->AddCustomAuthConnectBlack(acct, inst, "GID_dev@@@bad"));
  reopen();
  open_mq();
  EXPECT_EQ(mq_->ListTopic(acct, inst)->size(), 1u);
  EXPECT_EQ(mq_->ListGroupId(acct, inst)->size(), 1u);
  auto q = mq_->QueryToken(acct, inst, *tok);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->valid);
  EXPECT_EQ(q->info.actions(), "R,W");
  auto g = mq_->GetDeviceCredential(acct, inst, "GID_dev@@@d1");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->device_access_key_secret, dc->device_access_key_secret);
  EXPECT_EQ(mq_->QueryCustomAuthIdentity(acct, inst)->size(), 1u);
  EXPECT_EQ(mq_->QueryCustomAuthPermission(acct, inst)->size(), 1u);
  EXPECT_EQ(mq_->QueryCustomAuthConnectBlack(acct, inst)->size(), 1u);
  // The token is not stored in clear.
  auto rows = iam_->store().db().query("SELECT COUNT(*) FROM mq_tokens WHERE token_hash = ?", *tok);
  rows.step();
  EXPECT_EQ(rows.int64(0), 0);
}

TEST_F(MqFixture, TokenRules) {
  EXPECT_CODE(mq_->ApplyToken(acct, inst, {"Sensors/#"}, "X", mq_clock() + 3600'000), "InvalidParameter.Actions");
  EXPECT_CODE(mq_->ApplyToken(acct, inst, {"Sensors/#"}, "R", mq_clock() + 30'000), "InvalidParameter.ExpireTime");
  EXPECT_CODE(mq_->ApplyToken(acct, inst, {"Sensors/#"}, "R", mq_clock() + 31LL * 86400'000),
              "InvalidParameter.ExpireTime");
  std::vector<std::string> many(101, "Sensors/a");
  EXPECT_CODE(mq_->ApplyToken(acct, inst, many, "R", mq_clock() + 3600'000), "InvalidParameter.Resources");
  auto t = mq_->ApplyToken(acct, inst, {"Sensors/#"}, "R", mq_clock() + 3600'000);
  ASSERT_TRUE(t.ok());
  ASSERT_OK(mq_->RevokeToken(acct, inst, *t));
  EXPECT_EQ(mq_->QueryToken(acct, inst, *t)->status, "Revoked");
  EXPECT_CODE(mq_->QueryToken(acct, inst, "nope"), "EntityNotExist.Token");
}

TEST_F(MqFixture, SignatureModeRootAndFailures) {
  auto a = sig(root_key, root_secret, "GID_dev@@@1");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  ASSERT_TRUE(a.access);
  EXPECT_EQ(a.ns->id(), inst);
  EXPECT_TRUE(a.access->may_publish("Sensors/t1", 1, false));
  EXPECT_TRUE(a.access->may_subscribe("Sensors/#"));
  EXPECT_FALSE(a.access->may_publish("Nope/t1", 1, false));  // parent topic must exist
  EXPECT_EQ(sig(root_key, "wrong", "GID_dev@@@1").reason, mqtt::Reason::BadUserNameOrPassword);
  EXPECT_EQ(sig(root_key, root_secret, "plainclient").reason, mqtt::Reason::ClientIdentifierNotValid);
  EXPECT_EQ(sig(root_key, root_secret, "GID_other@@@1").reason, mqtt::Reason::ClientIdentifierNotValid);
  EXPECT_EQ(sig("LTAInope", root_secret, "GID_dev@@@1").reason, mqtt::Reason::BadUserNameOrPassword);
  EXPECT_EQ(connect("", "", "GID_dev@@@1").reason, mqtt::Reason::BadUserNameOrPassword);
  // Another account's key against this instance: not authorized, audited, traced.
  auto other = new_account("other");
  auto ok = iam_->create_access_key(other, std::nullopt);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(sig(ok->key.id, ok->secret, "GID_dev@@@1").reason, mqtt::Reason::NotAuthorized);
  EXPECT_GE(audit->events.size(), 5u);
  auto traces = mq_->QueryMqttTraceDevice(acct, inst, "", 0, INT64_MAX);
  ASSERT_TRUE(traces.ok());
  bool saw_fail = false;
  for (const auto& t : *traces) saw_fail |= t.action == "auth_failed";
  EXPECT_TRUE(saw_fail);
}

TEST_F(MqFixture, RamUserPubOnlyAndRevocationWithinACheck) {
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "alice"}, PolicyType::System, "AliyunMQPubOnlyAccess"));
  auto k = iam_->create_access_key(acct, std::string("alice"));
  ASSERT_TRUE(k.ok());
  auto a = sig(k->key.id, k->secret, "GID_dev@@@a");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  EXPECT_TRUE(a.access->may_publish("Sensors/x", 0, false));
  EXPECT_FALSE(a.access->may_subscribe("Sensors/x"));
  auto c = a.access->check(0);
  EXPECT_EQ(c.reason, mqtt::Reason::Success);
  ASSERT_OK(iam_->detach_policy(acct, {PrincipalType::User, "alice"}, PolicyType::System, "AliyunMQPubOnlyAccess"));
  c = a.access->check(0);
  EXPECT_EQ(c.reason, mqtt::Reason::NotAuthorized) << c.why;
}

TEST_F(MqFixture, RamUserSubOnlyLosesOneSubtopicToADeny) {
  ASSERT_OK(iam_->create_user(acct, {"bob", "", ""}));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "bob"}, PolicyType::System, "AliyunMQSubOnlyAccess"));
  auto k = iam_->create_access_key(acct, std::string("bob"));
  auto a = sig(k->key.id, k->secret, "GID_dev@@@b");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  EXPECT_FALSE(a.access->may_publish("Sensors/x", 0, false));
  EXPECT_TRUE(a.access->may_subscribe("Sensors/secret"));
  EXPECT_TRUE(a.access->may_subscribe("Sensors/open"));
  ASSERT_OK(iam_->create_policy(acct, "DenySecret",
                                R"({"Version":"1","Statement":[{"Effect":"Deny","Action":"mq:*","Resource":")"
                                "acs:mq:*:*:topic/" + inst + R"(/Sensors/secret"}]})"));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "bob"}, PolicyType::Custom, "DenySecret"));
  auto c = a.access->check(0);
  EXPECT_EQ(c.reason, mqtt::Reason::Success);
  EXPECT_TRUE(c.rights_changed);
  EXPECT_FALSE(a.access->may_subscribe("Sensors/secret"));
  EXPECT_TRUE(a.access->may_subscribe("Sensors/open"));
}

TEST_F(MqFixture, TokenModeNoticesExpiryAndRevocation) {
  auto r = mq_->ApplyToken(acct, inst, {"Sensors/in/#"}, "R", mq_clock() + 600'000);
  auto w = mq_->ApplyToken(acct, inst, {"Sensors/out/#"}, "W", mq_clock() + 3600'000);
  ASSERT_TRUE(r.ok() && w.ok());
  auto a = connect("Token|" + root_key + "|" + inst, "R|" + *r + "|W|" + *w, "GID_dev@@@t");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  EXPECT_TRUE(a.access->may_subscribe("Sensors/in/a"));
  EXPECT_FALSE(a.access->may_subscribe("Sensors/out/a"));
  EXPECT_TRUE(a.access->may_publish("Sensors/out/a", 0, false));
  EXPECT_FALSE(a.access->may_publish("Sensors/in/a", 0, false));
  // Type mismatch and bad tokens fail.
  EXPECT_EQ(connect("Token|" + root_key + "|" + inst, "W|" + *r, "GID_dev@@@t2").reason,
            mqtt::Reason::BadUserNameOrPassword);
  EXPECT_EQ(connect("Token|" + root_key + "|" + inst, "R|bogus", "GID_dev@@@t2").reason,
            mqtt::Reason::BadUserNameOrPassword);
  // 5 minutes before expiry: a notice, once.
  EXPECT_TRUE(a.access->check(0).notices.empty());
  g_offset_ms = 600'000 - 299'000;
  auto c = a.access->check(0);
  ASSERT_EQ(c.notices.size(), 1u);
  EXPECT_EQ(c.notices[0].first, "$SYS/tokenExpireNotice");
  EXPECT_TRUE(a.access->check(0).notices.empty());
  // A fresh R token uploaded in session replaces the old one.
  auto r2 = mq_->ApplyToken(acct, inst, {"Sensors/in/#"}, "R", mq_clock() + 3600'000);
  ASSERT_TRUE(a.access->on_system_publish("$SYS/uploadToken", R"({"token":")" + *r2 + R"(","type":"R"})"));
  g_offset_ms = 700'000;
  c = a.access->check(0);
  EXPECT_EQ(c.reason, mqtt::Reason::Success) << c.why;
  // A bad upload is answered with an invalid notice.
  ASSERT_TRUE(a.access->on_system_publish("$SYS/uploadToken", R"({"token":"nope","type":"R"})"));
  c = a.access->check(0);
  ASSERT_EQ(c.notices.size(), 1u);
  EXPECT_EQ(c.notices[0].first, "$SYS/tokenInvalidNotice");
  EXPECT_NE(c.notices[0].second.find("\"code\":1"), std::string::npos);
  // Revocation: invalid notice code 3, then disconnect.
  ASSERT_OK(mq_->RevokeToken(acct, inst, *w));
  c = a.access->check(0);
  EXPECT_EQ(c.reason, mqtt::Reason::NotAuthorized);
  ASSERT_FALSE(c.notices.empty());
  EXPECT_NE(c.notices.back().second.find("\"code\":3"), std::string::npos);
}

TEST_F(MqFixture, TokenExpiryDisconnects) {
  auto r = mq_->ApplyToken(acct, inst, {"Sensors/#"}, "R", mq_clock() + 60'000);
  auto a = connect("Token|" + root_key + "|" + inst, "R|" + *r, "GID_dev@@@t");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  g_offset_ms = 61'000;
  auto c = a.access->check(0);
  EXPECT_EQ(c.reason, mqtt::Reason::NotAuthorized);
  ASSERT_FALSE(c.notices.empty());
  EXPECT_EQ(c.notices.back().first, "$SYS/tokenInvalidNotice");
  EXPECT_NE(c.notices.back().second.find("\"code\":2"), std::string::npos);
}

TEST_F(MqFixture, DeviceCredentialOwnClientIdOnlyAndUnregisterDrops) {
  auto d = mq_->RegisterDeviceCredential(acct, inst, "GID_dev@@@d1");
  ASSERT_TRUE(d.ok());
  const std::string user = "DeviceCredential|" + d->device_access_key_id + "|" + inst;
  auto a = connect(user, sign_client_id(d->device_access_key_secret, "GID_dev@@@d1"), "GID_dev@@@d1");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  EXPECT_TRUE(a.access->may_publish("Sensors/any", 1, false));
  EXPECT_EQ(connect(user, sign_client_id(d->device_access_key_secret, "GID_dev@@@d2"), "GID_dev@@@d2").reason,
            mqtt::Reason::NotAuthorized);
  EXPECT_EQ(connect(user, "bad", "GID_dev@@@d1").reason, mqtt::Reason::BadUserNameOrPassword);
  ASSERT_OK(mq_->UnRegisterDeviceCredential(acct, inst, "GID_dev@@@d1"));
  EXPECT_EQ(a.access->check(0).reason, mqtt::Reason::NotAuthorized);
}

TEST_F(MqFixture, CustomAuthUserClientPermissionsAndBlacklist) {
  ASSERT_OK(mq_->AddCustomAuthIdentity(acct, inst, "alice", "USER", "", "origin-secret", "ORIGIN"));
  ASSERT_OK(mq_->AddCustomAuthIdentity(acct, inst, "dev", "CLIENT", "GID_dev@@@c1", "signed-secret", "SIGNED"));
  ASSERT_OK(mq_->AddCustomAuthPermission(acct, inst, "alice", "USER", "Sensors/#", "PUB_SUB", "ALLOW"));
  ASSERT_OK(mq_->AddCustomAuthPermission(acct, inst, "alice", "USER", "Sensors/private", "PUB_SUB", "DENY"));
  ASSERT_OK(mq_->AddCustomAuthPermission(acct, inst, "GID_dev@@@c1", "CLIENT", "Sensors/c1", "PUB", "ALLOW"));
  // The instance comes from the SNI / Host name.
  auto a = connect("alice", "origin-secret", "GID_dev@@@u1", inst + ".mqtt.example.com");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  EXPECT_TRUE(a.access->may_publish("Sensors/a", 0, false));
  EXPECT_FALSE(a.access->may_publish("Sensors/private", 0, false));  // deny wins
  EXPECT_FALSE(a.access->may_subscribe("Sensors/#"));               // overlaps the deny
  EXPECT_TRUE(a.access->may_subscribe("Sensors/a/+"));
  EXPECT_EQ(connect("alice", "wrong", "GID_dev@@@u1", inst + ".x").reason, mqtt::Reason::BadUserNameOrPassword);
  EXPECT_EQ(connect("alice", "origin-secret", "GID_dev@@@u1").reason,  // no SNI, no default instance
            mqtt::Reason::BadUserNameOrPassword);
  auto c = connect("dev", sign_client_id("signed-secret", "GID_dev@@@c1"), "GID_dev@@@c1", inst + ".x");
  ASSERT_EQ(c.reason, mqtt::Reason::Success);
  EXPECT_TRUE(c.access->may_publish("Sensors/c1", 0, false));
  EXPECT_FALSE(c.access->may_subscribe("Sensors/c1"));  // PUB only
  EXPECT_EQ(connect("dev", sign_client_id("signed-secret", "GID_dev@@@c2"), "GID_dev@@@c2", inst + ".x").reason,
            mqtt::Reason::BadUserNameOrPassword);  // a CLIENT identity is for its client id only
  ASSERT_OK(mq_->AddCustomAuthConnectBlack(acct, inst, "GID_dev@@@c1"));
  EXPECT_EQ(c.access->check(0).reason, mqtt::Reason::NotAuthorized);
  EXPECT_EQ(connect("dev", sign_client_id("signed-secret", "GID_dev@@@c1"), "GID_dev@@@c1", inst + ".x").reason,
            mqtt::Reason::NotAuthorized);
}

TEST_F(MqFixture, ReleasedInstanceDropsClientsAndResourceGroupMovesApply) {
  ASSERT_OK(iam_->create_user(acct, {"carol", "", ""}));
  auto rg = iam_->create_resource_group(acct, "team-a", "");
  ASSERT_TRUE(rg.ok());
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "carol"}, PolicyType::System, "AliyunMQFullAccess", rg->id));
  auto k = iam_->create_access_key(acct, std::string("carol"));
  EXPECT_EQ(sig(k->key.id, k->secret, "GID_dev@@@c").reason, mqtt::Reason::NotAuthorized);  // default group
  ASSERT_OK(iam_->move_resources(acct, rg->id, {iam::ResourceRef{"mq", "local", "instance", inst}}));
  auto a = sig(k->key.id, k->secret, "GID_dev@@@c");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  EXPECT_TRUE(a.access->may_publish("Sensors/x", 0, false));
  auto def = iam_->default_resource_group(acct);
  ASSERT_OK(iam_->move_resources(acct, def->id, {iam::ResourceRef{"mq", "local", "instance", inst}}));
  EXPECT_EQ(a.access->check(0).reason, mqtt::Reason::NotAuthorized);
  auto b = sig(root_key, root_secret, "GID_dev@@@r");
  ASSERT_EQ(b.reason, mqtt::Reason::Success);
  ASSERT_OK(mq_->ReleaseInstance(acct, inst));
  EXPECT_EQ(b.access->check(0).reason, mqtt::Reason::NotAuthorized);
}

TEST_F(MqFixture, FailedAttemptsAreRateLimitedPerAddress) {
  AccessOptions ao;
  ao.auth_fail_burst = 3;
  ao.auth_fail_per_second = 0.001;
  MqAccessControl strict(*broker_, *mq_, *authz_, ao, audit);
  broker::ConnectInfo ci;
  ci.client_id = "GID_dev@@@1";
  std::string user = "Signature|" + root_key + "|" + inst, bad = "bad", good = sign_client_id(root_secret, "GID_dev@@@1");
  ci.username = user;
  ci.peer_address = "192.0.2.1";
  ci.password = bad;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(strict.admit(ci).reason, mqtt::Reason::BadUserNameOrPassword);
  ci.password = good;
  EXPECT_EQ(strict.admit(ci).reason, mqtt::Reason::NotAuthorized);  // limited, even with the right password
  ci.peer_address = "192.0.2.2";
  EXPECT_EQ(strict.admit(ci).reason, mqtt::Reason::Success);        // another address is not
}

TEST_F(MqFixture, CloseConnectionKicksWithinACheck) {
  auto a = sig(root_key, root_secret, "GID_dev@@@k");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  ASSERT_OK(mq_->CloseConnection(acct, inst, "GID_dev@@@k"));
  EXPECT_EQ(a.access->check(0).reason, mqtt::Reason::AdministrativeAction);
}

TEST_F(MqFixture, DeletingTheGroupDropsItsClients) {
  auto a = sig(root_key, root_secret, "GID_dev@@@g");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  ASSERT_OK(mq_->DeleteGroupId(acct, inst, "GID_dev"));
  auto c = a.access->check(0);
  EXPECT_EQ(c.reason, mqtt::Reason::NotAuthorized);
  EXPECT_NE(c.why.find("GID_dev"), std::string::npos) << c.why;
}

// SPEC §9 target: >= 5,000 Signature-mode connects/s. The authentication itself
// (key lookup, HMAC, constant-time compare, mq:MqttInstanceAccess decision, the
// per-connection access object) must be a small part of that: measured in process.
TEST_F(MqFixture, SignatureAdmissionCostsMicroseconds) {
  ASSERT_OK(iam_->create_user(acct, {"fast", "", ""}));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "fast"}, PolicyType::System, "AliyunMQFullAccess"));
  auto k = iam_->create_access_key(acct, std::string("fast"));
  ASSERT_TRUE(k.ok());
  const int n = 3000;
  std::vector<std::string> cids, pws;
  for (int i = 0; i < n; ++i) {
    cids.push_back("GID_dev@@@bench" + std::to_string(i));
    pws.push_back(sign_client_id(k->secret, cids.back()));
  }
  const std::string user = "Signature|" + k->key.id + "|" + inst;
  broker::ConnectInfo ci;
  ci.username = std::string_view(user);
  ci.peer_address = "10.1.1.1";
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    ci.client_id = cids[i];
    ci.password = std::string_view(pws[i]);
    auto a = ac_->admit(ci);
    ASSERT_EQ(a.reason, mqtt::Reason::Success);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("Signature admissions: %.0f/s (%.1f us each)\n", n / s, s / n * 1e6);
  EXPECT_GT(n / s, 5000.0);
}

// The namespace side (opt-in per instance, the tracer installed): app/mq_binding_test.cpp.
TEST_F(MqFixture, MessageTracesAreQueryable) {
  auto tracer = mq_->traces().tracer_for(inst);  // what the wiring gives the instance's namespace
  broker::Message m;
  m.topic = "Sensors/x";
  m.qos = 1;
  tracer->published(m, "GID_dev@@@pub");
  tracer->delivered(m, "GID_dev@@@sub", 1);
  auto pubs = mq_->QueryMqttTraceMessagePublish(acct, inst, "", 0, INT64_MAX);
  ASSERT_TRUE(pubs.ok());
  ASSERT_EQ(pubs->size(), 1u);
  EXPECT_EQ(pubs->at(0).client_id, "GID_dev@@@pub");
  auto subs = mq_->QueryMqttTraceMessageSubscribe(acct, inst, pubs->at(0).msg_id, "", 0, INT64_MAX);
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ(subs->at(0).client_id, "GID_dev@@@sub");
  EXPECT_EQ(mq_->QueryMqttTraceMessageOfClient(acct, inst, "GID_dev@@@sub", 0, INT64_MAX)->size(), 1u);
  // Device traces: connect and disconnect with the reason.
  auto a = sig(root_key, root_secret, "GID_dev@@@tr");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  a.access->on_close("client disconnected");
  auto d = mq_->QueryMqttTraceDevice(acct, inst, "GID_dev@@@tr", 0, INT64_MAX);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ(d->at(0).action, "connect");
  EXPECT_EQ(d->at(1).action, "disconnect");
  EXPECT_EQ(d->at(1).reason, "client disconnected");
  EXPECT_EQ(d->at(0).channel_id, d->at(1).channel_id);
}

// --- issue #14: rights checked where they are used -------------------------------

// A Deny carved out of an Allow holds at delivery, whatever filter matched.
TEST_F(MqFixture, WildcardSubscriptionDeliversNothingFromADeniedSubtopic) {
  ASSERT_OK(iam_->create_user(acct, {"carl", "", ""}));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "carl"}, PolicyType::System, "AliyunMQFullAccess"));
  ASSERT_OK(iam_->create_policy(acct, "DenySecretSub",
                                R"({"Version":"1","Statement":[{"Effect":"Deny","Action":"mq:SUB","Resource":[")"
                                "acs:mq:*:*:topic/" + inst + R"(/Sensors/secret","acs:mq:*:*:topic/)" + inst +
                                    R"(/Sensors/secret/*"]}]})"));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "carl"}, PolicyType::Custom, "DenySecretSub"));
  auto k = iam_->create_access_key(acct, std::string("carl"));
  auto a = sig(k->key.id, k->secret, "GID_dev@@@c");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  EXPECT_FALSE(a.access->may_subscribe("Sensors/secret"));
  for (const char* f : {"Sensors/#", "Sensors/+", "$share/g/Sensors/#"}) EXPECT_TRUE(a.access->may_subscribe(f)) << f;
  EXPECT_TRUE(a.access->may_receive("Sensors/open"));
  EXPECT_FALSE(a.access->may_receive("Sensors/secret"));
  EXPECT_FALSE(a.access->may_receive("Sensors/secret/deep/er"));
  EXPECT_TRUE(a.access->may_receive("Sensors/open"));  // the fast path keeps only allowed topics
  EXPECT_FALSE(a.access->may_receive("Sensors/secret"));
  // P2P to this client needs no subscription.
  EXPECT_TRUE(a.access->may_receive("Sensors/p2p/GID_dev@@@c"));
  EXPECT_FALSE(a.access->may_receive("Sensors/secret/p2p/GID_dev@@@other"));
}

// A write-only token resumes nothing it may not read.
TEST_F(MqFixture, WriteOnlyTokenReceivesNothing) {
  auto w = mq_->ApplyToken(acct, inst, {"Sensors/#"}, "W", mq_clock() + 3600'000);
  ASSERT_TRUE(w.ok());
  auto a = connect("Token|" + root_key + "|" + inst, "W|" + *w, "GID_dev@@@victim");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  EXPECT_FALSE(a.access->may_subscribe("Sensors/#"));
  EXPECT_FALSE(a.access->may_receive("Sensors/a"));
}

TEST_F(MqFixture, StsKeyEndsItsConnectionWhenItExpires) {
  std::string trust = R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::)" +
                      acct + R"(:root"]}}]})";
  auto role = iam_->create_role(acct, "devices", trust);
  ASSERT_OK(role);
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::Role, "devices"}, PolicyType::System, "AliyunMQFullAccess"));
  auto cr = iam_->assume_role(iam::Principal::root(acct), role->arn, "s1", 900, std::nullopt);
  ASSERT_OK(cr);
  auto a = sig(cr->access_key_id, cr->access_key_secret, "GID_dev@@@sts");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  EXPECT_EQ(a.access->check(0).reason, mqtt::Reason::Success);
  g_offset_ms = 899'000;
  EXPECT_EQ(a.access->check(0).reason, mqtt::Reason::Success);
  g_offset_ms = 901'000;
  auto c = a.access->check(0);
  EXPECT_EQ(c.reason, mqtt::Reason::NotAuthorized);
  EXPECT_NE(c.why.find("expired"), std::string::npos) << c.why;
}

TEST_F(MqFixture, WillIsRecheckedWhenItGoesOut) {
  ASSERT_OK(iam_->create_user(acct, {"wendy", "", ""}));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "wendy"}, PolicyType::System, "AliyunMQFullAccess"));
  auto k = iam_->create_access_key(acct, std::string("wendy"));
  auto a = sig(k->key.id, k->secret, "GID_dev@@@w");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  auto guard = a.access->will_guard();
  ASSERT_TRUE(guard);
  broker::Message will;
  will.topic = "Sensors/status";
  will.qos = 1;
  EXPECT_TRUE(guard->may_publish(will));
  a.access.reset();  // the connection is gone; the guard decides on its own
  ASSERT_OK(iam_->detach_policy(acct, {PrincipalType::User, "wendy"}, PolicyType::System, "AliyunMQFullAccess"));
  EXPECT_FALSE(guard->may_publish(will));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "wendy"}, PolicyType::System, "AliyunMQFullAccess"));
  EXPECT_TRUE(guard->may_publish(will));
  ASSERT_OK(iam_->delete_access_key(acct, std::string("wendy"), k->key.id));
  EXPECT_FALSE(guard->may_publish(will));
}

// Issue 17: the will of a client of a node that died is sent by another node,
// which rebuilds the client's identity from what the will's record carries
// (never a secret) and decides it against the rights as they are then.
TEST_F(MqFixture, WillOfADeadNodeIsDecidedByItsClientsIdentity) {
  broker::Message will;
  will.topic = "Sensors/status";
  will.qos = 1;
  size_t seen = 0;  // audit events looked at so far
  auto denied = [&](const std::string& why_part) {  // a refusal audited since the last call
    std::lock_guard lk(audit->mu);
    bool found = false;
    for (; seen < audit->events.size(); ++seen) {
      const auto& e = audit->events[seen];
      found |= e.event == "mqtt.will.denied" && e.resource == will.topic && e.reason.find(why_part) != std::string::npos;
    }
    return found;
  };
  // Signature: the RAM grant, then the key itself.
  ASSERT_OK(iam_->create_user(acct, {"wendy", "", ""}));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "wendy"}, PolicyType::System, "AliyunMQFullAccess"));
  auto k = iam_->create_access_key(acct, std::string("wendy"));
  auto a = sig(k->key.id, k->secret, "GID_dev@@@w", "");
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  const std::string id = a.access->identity();
  EXPECT_EQ(id.find(k->secret), std::string::npos);
  a.access.reset();  // its node is gone
  EXPECT_TRUE(ac_->will_guard_for(id)->may_publish(will));
  ASSERT_OK(iam_->detach_policy(acct, {PrincipalType::User, "wendy"}, PolicyType::System, "AliyunMQFullAccess"));
  EXPECT_FALSE(ac_->will_guard_for(id)->may_publish(will));
  EXPECT_TRUE(denied(""));  // no longer admitted to the instance
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "wendy"}, PolicyType::System, "AliyunMQFullAccess"));
  EXPECT_TRUE(ac_->will_guard_for(id)->may_publish(will));
  ASSERT_OK(iam_->delete_access_key(acct, std::string("wendy"), k->key.id));
  EXPECT_FALSE(ac_->will_guard_for(id)->may_publish(will));
  EXPECT_TRUE(denied("was deleted"));
  // Token: the token's hash travels, not the token; a revocation refuses the will.
  auto w = mq_->ApplyToken(acct, inst, {"Sensors/#"}, "W", mq_clock() + 3600'000);
  ASSERT_TRUE(w.ok());
  auto t = connect("Token|" + root_key + "|" + inst, "W|" + *w, "GID_dev@@@t");
  ASSERT_EQ(t.reason, mqtt::Reason::Success);
  const std::string tid = t.access->identity();
  EXPECT_EQ(tid.find(*w), std::string::npos);
  EXPECT_TRUE(ac_->will_guard_for(tid)->may_publish(will));
  ASSERT_OK(mq_->RevokeToken(acct, inst, *w));
  EXPECT_FALSE(ac_->will_guard_for(tid)->may_publish(will));
  EXPECT_TRUE(denied("token no longer valid"));
  // DeviceCredential: unregistered since.
  auto d = mq_->RegisterDeviceCredential(acct, inst, "GID_dev@@@d1");
  ASSERT_TRUE(d.ok());
  auto dc = connect("DeviceCredential|" + d->device_access_key_id + "|" + inst,
                    sign_client_id(d->device_access_key_secret, "GID_dev@@@d1"), "GID_dev@@@d1");
  ASSERT_EQ(dc.reason, mqtt::Reason::Success);
  const std::string did = dc.access->identity();
  EXPECT_EQ(did.find(d->device_access_key_secret), std::string::npos);
  EXPECT_TRUE(ac_->will_guard_for(did)->may_publish(will));
  ASSERT_OK(mq_->UnRegisterDeviceCredential(acct, inst, "GID_dev@@@d1"));
  EXPECT_FALSE(ac_->will_guard_for(did)->may_publish(will));
  // Custom: the identity's name and version travel, not its secret; a new secret refuses the will.
  ASSERT_OK(mq_->AddCustomAuthIdentity(acct, inst, "alice", "USER", "", "origin-secret", "ORIGIN"));
  ASSERT_OK(mq_->AddCustomAuthPermission(acct, inst, "alice", "USER", "Sensors/#", "PUB_SUB", "ALLOW"));
  auto c = connect("alice", "origin-secret", "GID_dev@@@u1", inst + ".mqtt.example.com");
  ASSERT_EQ(c.reason, mqtt::Reason::Success);
  const std::string cid = c.access->identity();
  EXPECT_EQ(cid.find("origin-secret"), std::string::npos);
  EXPECT_TRUE(ac_->will_guard_for(cid)->may_publish(will));
  g_offset_ms += 1000;
  ASSERT_OK(mq_->UpdateCustomAuthIdentity(acct, inst, "alice", "USER", "", "new-secret", "ORIGIN"));
  EXPECT_FALSE(ac_->will_guard_for(cid)->may_publish(will));
  EXPECT_TRUE(denied("secret changed"));
  // Anything else is refused, never sent unchecked.
  EXPECT_FALSE(ac_->will_guard_for("garbage")->may_publish(will));
  EXPECT_FALSE(ac_->will_guard_for(id.substr(0, id.size() - 1))->may_publish(will));
}

// Without valid credentials a client learns nothing from the CONNACK: a missing
// instance, another account's instance, an unknown key, another account's key,
// a missing group and a blacklisted client id all answer 0x86.
TEST_F(MqFixture, UnauthenticatedConnackTellsNothing) {
  auto other = new_account("other");
  ASSERT_OK(iam_->activate_service(other, "mq"));
  auto oi = mq_->CreateInstance(other, InstanceSpec{"theirs", "", "", std::nullopt, ""});
  ASSERT_TRUE(oi.ok());
  auto ok = iam_->create_access_key(other, std::nullopt);
  ASSERT_TRUE(ok.ok());
  const auto bad = mqtt::Reason::BadUserNameOrPassword;
  const std::string cid = "GID_dev@@@probe";
  for (const std::string& instance : {inst, oi->id, std::string("mqtt-local-nosuchinstance")}) {
    EXPECT_EQ(connect("Signature|LTAInosuchkey|" + instance, "x", cid).reason, bad) << instance;
    EXPECT_EQ(connect("Signature|" + ok->key.id + "|" + instance, "x", cid).reason, bad) << instance;
    EXPECT_EQ(connect("Signature|" + root_key + "|" + instance, "x", cid).reason, bad) << instance;
    EXPECT_EQ(connect("Token|" + root_key + "|" + instance, "R|x", cid).reason, bad) << instance;
    EXPECT_EQ(connect("DeviceCredential|DC.nosuch|" + instance, "x", cid).reason, bad) << instance;
    EXPECT_EQ(sig(root_key, "wrong-secret", "GID_nosuchgroup@@@x", instance).reason, bad) << instance;
  }
  // Proven credentials, then: a missing instance and another account's are alike.
  EXPECT_EQ(sig(root_key, root_secret, cid, oi->id).reason, mqtt::Reason::NotAuthorized);
  EXPECT_EQ(sig(root_key, root_secret, cid, "mqtt-local-nosuchinstance").reason, mqtt::Reason::NotAuthorized);
  EXPECT_EQ(sig(root_key, root_secret, "GID_nosuchgroup@@@x").reason, mqtt::Reason::ClientIdentifierNotValid);
  // Custom: the blacklist is not revealed before the password is proven.
  ASSERT_OK(mq_->AddCustomAuthIdentity(acct, inst, "cu", "USER", "", "origin-secret", "ORIGIN"));
  ASSERT_OK(mq_->AddCustomAuthConnectBlack(acct, inst, cid));
  EXPECT_EQ(connect("cu", "wrong", cid, inst + ".mqtt.local").reason, bad);
  EXPECT_EQ(connect("cu", "origin-secret", cid, inst + ".mqtt.local").reason, mqtt::Reason::NotAuthorized);
}

// --- issue #15: a mode is one class behind one interface ---------------------------

namespace {

// A fifth mode, as a newcomer would add one: "Fake|<instance>" with password
// "open", which may publish anywhere and subscribe nowhere.
class FakeGrant final : public Credential {
 public:
  std::unique_ptr<Credential> clone() const override { return std::make_unique<FakeGrant>(*this); }
  bool may_publish(const ClientFacts&, const InstanceState&, std::string_view, uint8_t, bool, int64_t,
                   std::string*) override {
    return true;
  }
  bool may_subscribe(const ClientFacts&, const InstanceState&, std::string_view, int64_t, std::string* why) override {
    *why = "fake mode: no subscriptions";
    return false;
  }
  bool still_admitted(const ClientFacts&, const InstanceState&, int64_t, std::string*, Notices&) override {
    return true;
  }
};

class FakeMode final : public AuthMode {
 public:
  std::string_view name() const override { return "Fake"; }
  bool claims(const broker::ConnectInfo& info) const override {
    return info.username && info.username->starts_with("Fake|");
  }
  Named named(const Attempt& a) const override { return Named{"fake", std::string(a.username.substr(5))}; }
  AuthOutcome authenticate(const Attempt& a) override {
    if (a.password != "open") return AuthOutcome::refuse(mqtt::Reason::BadUserNameOrPassword, "wrong password");
    return AuthOutcome::ok(std::make_unique<FakeGrant>());
  }
};

}  // namespace

TEST_F(MqFixture, AFifthModeIsOneClassAndOneRegistration) {
  auto modes = standard_auth_modes(AuthDeps{mq_.get(), authz_.get(), "", 300'000});
  modes.insert(modes.begin(), std::make_unique<FakeMode>());
  MqAccessControl ac(*broker_, std::move(modes), mq_.get(), authz_.get(), AccessOptions{}, audit);
  broker::ConnectInfo ci;
  ci.client_id = "GID_dev@@@fake";
  const std::string user = "Fake|" + inst;
  ci.username = std::string_view(user);
  ci.password = std::string_view("open");
  ci.peer_address = "10.0.0.9";
  auto a = ac.admit(ci);
  ASSERT_EQ(a.reason, mqtt::Reason::Success);
  ASSERT_TRUE(a.access);
  // The shared rules still apply (the parent topic must exist), then the mode decides.
  EXPECT_TRUE(a.access->may_publish("Sensors/x", 1, false));
  EXPECT_FALSE(a.access->may_publish("Nowhere/x", 1, false));
  EXPECT_FALSE(a.access->may_subscribe("Sensors/#"));
  ci.password = std::string_view("closed");
  EXPECT_EQ(ac.admit(ci).reason, mqtt::Reason::BadUserNameOrPassword);
  // The other modes are still there, behind it.
  EXPECT_EQ(sig(root_key, root_secret, "GID_dev@@@r").reason, mqtt::Reason::Success);
}

TEST_F(MqFixture, EnhancedAuthenticationMethodIsRefusedUnlessAModeTakesIt) {
  broker::ConnectInfo ci;
  ci.version = mqtt::Version::V5;
  ci.client_id = "GID_dev@@@e";
  const std::string user = "Signature|" + root_key + "|" + inst;
  const std::string pass = sign_client_id(root_secret, "GID_dev@@@e");
  ci.username = std::string_view(user);
  ci.password = std::string_view(pass);
  ci.auth_method = std::string_view("SCRAM-SHA-1");
  ci.peer_address = "10.0.0.9";
  auto a = ac_->admit(ci);
  EXPECT_EQ(a.reason, mqtt::Reason::BadAuthenticationMethod);
  EXPECT_FALSE(a.reason_string.empty());
}

// The mq_* tables go through the store's migration runner, which refuses a
// database written by a newer Sluice (mq's own loop once did not).
TEST_F(MqFixture, RefusesAnMqSchemaNewerThanThisBinary) {
  ac_.reset();
  mq_.reset();
  iam_->store().db().run("UPDATE meta SET value = '99' WHERE key = 'mq_schema'");
  try {
    MqService again(shared_store(), *iam_, MqOptions{}, &mq_clock);
    ADD_FAILURE() << "a schema newer than this binary was accepted";
  } catch (const store::DbError& e) {
    EXPECT_NE(std::string(e.what()).find("mq schema version 99, newer than this Sluice"), std::string::npos)
        << e.what();
  }
}
