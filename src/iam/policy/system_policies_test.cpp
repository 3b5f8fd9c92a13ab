// The shipped system policies: embedded copy == the JSON file, all parse, flags.
#include "iam/policy/system_policies.hpp"

#include <fstream>
#include <sstream>

#include "iam/policy/test_util.hpp"

namespace sluice::iam::policy {
namespace {
using namespace testing;

std::string source_dir() {
  std::string f = __FILE__;
  return f.substr(0, f.find_last_of('/'));
}

TEST(SystemPolicies, EmbeddedCopyMatchesTheJsonFile) {
  std::ifstream in(source_dir() + "/system_policies.json", std::ios::binary);
  ASSERT_TRUE(in) << "system_policies.json beside this test";
  std::stringstream ss;
  ss << in.rdbuf();
  // If this fails, regenerate system_policies_data.cpp from the JSON file.
  EXPECT_EQ(ss.str(), std::string(system_policies_json()));
}

TEST(SystemPolicies, AllParseAndCarryTheirFlags) {
  auto all = system_policies();
  ASSERT_EQ(all.size(), 8u);
  for (const SystemPolicy& p : all) {
    EXPECT_NE(p.doc, nullptr) << p.name;
    EXPECT_FALSE(p.description.empty()) << p.name;
    EXPECT_EQ(p.high_risk, p.name == "AdministratorAccess" || p.name == "AliyunRAMFullAccess") << p.name;
  }
  for (const char* n : {"AdministratorAccess", "AliyunRAMFullAccess", "ReadOnlyAccess", "AliyunSTSAssumeRoleAccess",
                        "AliyunMQFullAccess", "AliyunMQPubOnlyAccess", "AliyunMQSubOnlyAccess", "AliyunMQReadOnlyAccess"})
    EXPECT_NE(find_system_policy(n), nullptr) << n;
  EXPECT_EQ(find_system_policy("administratoraccess"), nullptr);
  EXPECT_EQ(find_system_policy("_about"), nullptr);
}

Grant system_grant(const char* name, Scope scope = {}) {
  const SystemPolicy* p = find_system_policy(name);
  EXPECT_NE(p, nullptr) << name;
  Grant g;
  g.policy_name = name;
  g.policy_type = "System";
  g.version_id = "v1";
  g.scope = std::move(scope);
  g.via = "user";
  g.doc = p->doc;
  return g;
}

const std::string kAcct = "1234567890123456";
std::string arn(const std::string& rel) { return "acs:mq:local:" + kAcct + ":" + rel; }

TEST(SystemPolicies, PubOnlyPublishesButDoesNotSubscribe) {
  auto set = CompiledSet::compile({system_grant("AliyunMQPubOnlyAccess")});
  Ask pub{"mq:PUB", {arn("topic/mqtt-local-x/Sensors/a"), arn("topic/mqtt-local-x/Sensors")}};
  EXPECT_TRUE(pub.on(*set).allowed());
  Ask sub{"mq:SUB", {arn("topic/mqtt-local-x/Sensors/a"), arn("topic/mqtt-local-x/Sensors")}};
  EXPECT_FALSE(sub.on(*set).allowed());
  Ask sub_group{"mq:SUB", {arn("groupId/mqtt-local-x/GID_a")}};
  EXPECT_FALSE(sub_group.on(*set).allowed());
  Ask base{"mq:OnsInstanceBaseInfo", {arn("instance/mqtt-local-x")}};
  EXPECT_TRUE(base.on(*set).allowed());
  Ask slr{"ram:CreateServiceLinkedRole", {"*"}};
  EXPECT_FALSE(slr.on(*set).allowed());  // needs ram:ServiceName, which nothing offers
}

TEST(SystemPolicies, SubOnlySubscribesButDoesNotPublish) {
  auto set = CompiledSet::compile({system_grant("AliyunMQSubOnlyAccess")});
  EXPECT_TRUE((Ask{"mq:SUB", {arn("topic/mqtt-local-x/Sensors")}}.on(*set).allowed()));
  EXPECT_TRUE((Ask{"mq:SUB", {arn("groupId/mqtt-local-x/GID_a")}}.on(*set).allowed()));
  EXPECT_FALSE((Ask{"mq:PUB", {arn("topic/mqtt-local-x/Sensors")}}.on(*set).allowed()));
}

TEST(SystemPolicies, ReadOnlyAccessAloneListsNothing) {
  // SPEC §4: listing needs mq:ListMqttInstance AND mq:MqttInstanceAccess.
  auto set = CompiledSet::compile({system_grant("AliyunMQReadOnlyAccess")});
  Ask list{"mq:ListMqttInstance", {arn("instance/mqtt-local-x")}};
  Ask access{"mq:MqttInstanceAccess", {arn("instance/mqtt-local-x")}};
  EXPECT_TRUE(list.on(*set).allowed());
  EXPECT_FALSE(access.on(*set).allowed());
  EXPECT_TRUE((Ask{"mq:OnsInstanceBaseInfo", {arn("instance/mqtt-local-x")}}.on(*set).allowed()));
  EXPECT_FALSE((Ask{"mq:CreateTopic", {arn("instance/mqtt-local-x")}}.on(*set).allowed()));
}

TEST(SystemPolicies, FullAdminRamStsReadOnly) {
  auto admin = CompiledSet::compile({system_grant("AdministratorAccess")});
  EXPECT_TRUE((Ask{"ram:CreateUser", {"acs:ram:*:" + kAcct + ":user/bob"}}.on(*admin).allowed()));
  EXPECT_TRUE((Ask{"mq:PUB", {arn("topic/x/y")}}.on(*admin).allowed()));
  auto ram = CompiledSet::compile({system_grant("AliyunRAMFullAccess")});
  EXPECT_TRUE((Ask{"RAM:createuser", {"acs:ram:*:" + kAcct + ":user/bob"}}.on(*ram).allowed()));
  EXPECT_FALSE((Ask{"mq:PUB", {arn("topic/x/y")}}.on(*ram).allowed()));
  auto full = CompiledSet::compile({system_grant("AliyunMQFullAccess")});
  EXPECT_TRUE((Ask{"mq:DeleteInstance", {arn("instance/x")}}.on(*full).allowed()));
  EXPECT_FALSE((Ask{"ram:CreateUser", {"*"}}.on(*full).allowed()));
  auto sts = CompiledSet::compile({system_grant("AliyunSTSAssumeRoleAccess")});
  EXPECT_TRUE((Ask{"sts:AssumeRole", {"acs:ram::" + kAcct + ":role/r"}}.on(*sts).allowed()));
  auto ro = CompiledSet::compile({system_grant("ReadOnlyAccess")});
  EXPECT_TRUE((Ask{"ram:ListUsers", {"*"}}.on(*ro).allowed()));
  EXPECT_TRUE((Ask{"mq:QueryToken", {"*"}}.on(*ro).allowed()));
  EXPECT_FALSE((Ask{"ram:CreateUser", {"*"}}.on(*ro).allowed()));
}

}  // namespace
}  // namespace sluice::iam::policy
