// Evaluation semantics and the documented examples (SPEC §3-4) as tables.
#include <atomic>
#include <thread>

#include "iam/policy/test_util.hpp"

namespace sluice::iam::policy {
namespace {
using namespace testing;

const std::string kAcct = "1234567890123456";
std::string arn(const std::string& rel) { return "acs:mq:local:" + kAcct + ":" + rel; }
// A topic operation names the topic and its parent (SPEC §4).
std::vector<std::string> topic(const std::string& inst, const std::string& t) {
  std::vector<std::string> r{arn("topic/" + inst + "/" + t)};
  size_t slash = t.find('/');
  if (slash != std::string::npos) r.push_back(arn("topic/" + inst + "/" + t.substr(0, slash)));
  return r;
}

struct Row {
  std::string action;
  std::vector<std::string> resources;
  Effect want;
  std::string rg = "";
};

void check(const CompiledSet& set, std::span<const Row> rows) {
  for (const Row& r : rows) {
    Decision d = Ask{r.action, r.resources, r.rg}.on(set);
    EXPECT_EQ(static_cast<int>(d.effect), static_cast<int>(r.want))
        << r.action << " on " << r.resources[0] << " rg=" << r.rg << ": " << d.explain(set.grants());
  }
}

TEST(Evaluate, DefaultDenyWithNoGrants) {
  auto set = CompiledSet::compile({});
  Decision d = Ask{"mq:PUB", {arn("topic/x/T")}}.on(*set);
  EXPECT_EQ(d.effect, Effect::ImplicitDeny);
  EXPECT_EQ(d.grant_index, -1);
  EXPECT_EQ(d.statement_index, -1);
}

TEST(Evaluate, ConsoleOverviewAndInstanceList) {
  auto set = compile({grant("Console", R"({"Version":"1","Statement":[
    {"Effect":"Allow","Action":"mq:MqttMetaData","Resource":"acs:mq:*:1234567890123456:*"},
    {"Effect":"Allow","Action":["mq:ListMqttInstance","mq:MqttInstanceAccess"],"Resource":"acs:mq:*:1234567890123456:instance/mqtt-local-a"}]})")});
  const Row rows[] = {
      {"mq:MqttMetaData", {arn("*")}, Effect::Allow},
      {"mq:MqttMetaData", {"acs:mq:local:9999999999999999:*"}, Effect::ImplicitDeny},  // another account
      {"mq:ListMqttInstance", {arn("instance/mqtt-local-a")}, Effect::Allow},
      {"mq:MqttInstanceAccess", {arn("instance/mqtt-local-a")}, Effect::Allow},
      {"mq:ListMqttInstance", {arn("instance/mqtt-local-b")}, Effect::ImplicitDeny},
      {"mq:PUB", topic("mqtt-local-a", "T"), Effect::ImplicitDeny},
  };
  check(*set, rows);
}

TEST(Evaluate, PublishSubscribeWithGroupId) {
  // SUB needs the topic AND the groupId: the caller asks twice and requires both.
  auto set = compile({grant("PubSub", R"({"Version":"1","Statement":[
    {"Effect":"Allow","Action":["mq:PUB","mq:SUB"],"Resource":["acs:mq:*:*:topic/mqtt-local-a/Sensors"]},
    {"Effect":"Allow","Action":"mq:SUB","Resource":"acs:mq:*:*:groupId/mqtt-local-a/GID_sensors"},
    {"Effect":"Allow","Action":"mq:MqttInstanceAccess","Resource":"acs:mq:*:*:instance/mqtt-local-a"}]})")});
  const Row rows[] = {
      {"mq:MqttInstanceAccess", {arn("instance/mqtt-local-a")}, Effect::Allow},
      {"mq:PUB", topic("mqtt-local-a", "Sensors"), Effect::Allow},
      {"mq:PUB", topic("mqtt-local-a", "Sensors/room1/temp"), Effect::Allow},  // via the parent
      {"mq:PUB", topic("mqtt-local-a", "Other/x"), Effect::ImplicitDeny},
      {"mq:PUB", topic("mqtt-local-b", "Sensors"), Effect::ImplicitDeny},
      {"mq:SUB", topic("mqtt-local-a", "Sensors/+/temp"), Effect::Allow},
      {"mq:SUB", {arn("groupId/mqtt-local-a/GID_sensors")}, Effect::Allow},
      {"mq:SUB", {arn("groupId/mqtt-local-a/GID_other")}, Effect::ImplicitDeny},  // topic ok, group not
      {"mq:PUB", {arn("groupId/mqtt-local-a/GID_sensors")}, Effect::ImplicitDeny},
  };
  check(*set, rows);
}

TEST(Evaluate, DenyCarvesASubtopicOutOfAnAllowedParent) {
  auto set = compile({grant("AllowParent", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:*","Resource":"acs:mq:*:*:topic/mqtt-local-a/Sensors"}]})"),
                      grant("DenySecret", R"({"Version":"1","Statement":[{"Sid":"nosecret","Effect":"Deny","Action":["mq:PUB","mq:SUB"],"Resource":"acs:mq:*:*:topic/mqtt-local-a/Sensors/secret*"}]})")});
  const Row rows[] = {
      {"mq:PUB", topic("mqtt-local-a", "Sensors/open"), Effect::Allow},
      {"mq:PUB", topic("mqtt-local-a", "Sensors/secret"), Effect::Deny},
      {"mq:SUB", topic("mqtt-local-a", "Sensors/secret/x"), Effect::Deny},
      {"mq:SUB", topic("mqtt-local-a", "Sensors/#"), Effect::Allow},  // '#' is literal: not the secret topic
      {"mq:ApplyToken", topic("mqtt-local-a", "Sensors/secret"), Effect::Allow},  // Deny names PUB/SUB only
  };
  check(*set, rows);
  Decision d = Ask{"mq:PUB", topic("mqtt-local-a", "Sensors/secret")}.on(*set);
  EXPECT_EQ(d.grant_index, 1);
  EXPECT_EQ(d.sid, "nosecret");
  EXPECT_EQ(d.explain(set->grants()), "Deny by policy DenySecret (Custom, v1) statement 0 (Sid \"nosecret\") at Account via user");
}

TEST(Evaluate, ResourceGroupScopedGrantFollowsTheResourceGroup) {
  auto set = compile({grant("Ops", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:*","Resource":"*"}]})", "user", rg_scope("rg-ops"))});
  const Row rows[] = {
      {"mq:PUB", topic("mqtt-local-a", "T"), Effect::Allow, "rg-ops"},
      {"mq:PUB", topic("mqtt-local-a", "T"), Effect::ImplicitDeny, "rg-dev"},  // instance moved
      {"mq:PUB", topic("mqtt-local-a", "T"), Effect::ImplicitDeny, ""},
  };
  check(*set, rows);
  Decision d = Ask{"mq:PUB", topic("mqtt-local-a", "T"), "rg-ops"}.on(*set);
  EXPECT_EQ(d.explain(set->grants()), "Allow by policy Ops (Custom, v1) statement 0 at ResourceGroup rg-ops via user");
}

TEST(Evaluate, DenyWinsAcrossScopes) {
  auto set = compile({grant("AllowAll", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"),
                      grant("DenyInRg", R"({"Version":"1","Statement":[{"Effect":"Deny","Action":"mq:PUB","Resource":"*"}]})", "group:ops", rg_scope("rg-1"))});
  const Row rows[] = {
      {"mq:PUB", topic("a", "T"), Effect::Deny, "rg-1"},
      {"mq:PUB", topic("a", "T"), Effect::Allow, "rg-2"},
      {"mq:SUB", topic("a", "T"), Effect::Allow, "rg-1"},
  };
  check(*set, rows);
}

TEST(Evaluate, RightsThroughTwoGroups) {
  auto set = compile({grant("Pub", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:PUB","Resource":"acs:mq:*:*:topic/a/T"}]})", "group:publishers"),
                      grant("Sub", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:SUB","Resource":"acs:mq:*:*:topic/a/T"}]})", "group:subscribers")});
  Decision pub = Ask{"mq:PUB", topic("a", "T/x")}.on(*set);
  Decision sub = Ask{"mq:SUB", topic("a", "T/x")}.on(*set);
  EXPECT_TRUE(pub.allowed());
  EXPECT_TRUE(sub.allowed());
  EXPECT_EQ(pub.explain(set->grants()), "Allow by policy Pub (Custom, v1) statement 0 at Account via group:publishers");
  EXPECT_EQ(sub.explain(set->grants()), "Allow by policy Sub (Custom, v1) statement 0 at Account via group:subscribers");
}

TEST(Evaluate, FirstMatchingStatementDecides) {
  auto set = compile({grant("A", R"({"Version":"1","Statement":[
      {"Sid":"s0","Effect":"Allow","Action":"mq:SUB","Resource":"*"},
      {"Sid":"s1","Effect":"Allow","Action":"mq:P*","Resource":"acs:mq:*:*:topic/a/*"},
      {"Sid":"s2","Effect":"Allow","Action":"mq:PUB","Resource":"*"}]})"),
                      grant("B", R"({"Version":"1","Statement":[
      {"Effect":"Allow","Action":"mq:PUB","Resource":"*"},
      {"Sid":"d1","Effect":"Deny","Action":"*","Resource":"acs:mq:*:*:topic/a/X*"},
      {"Sid":"d2","Effect":"Deny","Action":"mq:PUB","Resource":"*"}]})", "group:g")});
  Decision d = Ask{"mq:PUB", topic("a", "T")}.on(*set);
  EXPECT_EQ(d.effect, Effect::Deny);
  EXPECT_EQ(d.grant_index, 1);
  EXPECT_EQ(d.statement_index, 2);
  d = Ask{"mq:PUB", topic("a", "X1")}.on(*set);
  EXPECT_EQ(d.statement_index, 1);
  EXPECT_EQ(d.sid, "d1");
  d = Ask{"mq:PUBLISH", topic("a", "T")}.on(*set);  // only s1 (mq:P*) matches
  EXPECT_EQ(d.effect, Effect::Allow);
  EXPECT_EQ(d.grant_index, 0);
  EXPECT_EQ(d.statement_index, 1);
}

TEST(Evaluate, ActionsAreCaseInsensitiveResourcesAreNot) {
  auto set = compile({grant("A", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["MQ:pub","mq:list*"],"Resource":"acs:mq:*:*:topic/a/Sensors"}]})")});
  const Row rows[] = {
      {"mq:PUB", topic("a", "Sensors"), Effect::Allow},
      {"Mq:Pub", topic("a", "Sensors"), Effect::Allow},
      {"mq:ListTopic", topic("a", "Sensors"), Effect::Allow},
      {"MQ:LISTTOPIC", topic("a", "Sensors"), Effect::Allow},
      {"mq:PUB", topic("a", "sensors"), Effect::ImplicitDeny},
      {"mq:PUB", {"ACS:MQ:local:1:topic/a/Sensors"}, Effect::ImplicitDeny},
  };
  check(*set, rows);
}

TEST(Evaluate, Wildcards) {
  auto set = compile({grant("W", R"({"Version":"1","Statement":[
    {"Effect":"Allow","Action":"mq:PU?","Resource":"acs:mq:*:*:topic/a/Room?/*"},
    {"Effect":"Allow","Action":"mq:SUB","Resource":"acs:mq:*:*:topic/*/Shared"},
    {"Effect":"Allow","Action":"*:Get*","Resource":"acs:*:*:*:instance/*"},
    {"Effect":"Allow","Action":"mq:Apply*","Resource":"acs:mq*topic/b/*"}]})")});
  const Row rows[] = {
      {"mq:PUB", {arn("topic/a/Room1/temp")}, Effect::Allow},
      {"mq:PUB", {arn("topic/a/Room12/temp")}, Effect::ImplicitDeny},
      {"mq:PUB", {arn("topic/a/Room1")}, Effect::ImplicitDeny},
      {"mq:PUBX", {arn("topic/a/Room1/temp")}, Effect::ImplicitDeny},
      {"mq:SUB", {arn("topic/any-instance/Shared")}, Effect::Allow},
      {"mq:SUB", {arn("topic/x/Shared/more")}, Effect::ImplicitDeny},
      {"ecs:GetThing", {"acs:ecs:r:1:instance/i-1"}, Effect::Allow},
      {"mq:GetInstance", {arn("instance/mqtt-local-a")}, Effect::Allow},
      {"mq:GetInstance", {arn("topic/mqtt-local-a/T")}, Effect::ImplicitDeny},
      {"mq:ApplyToken", {arn("topic/b/T")}, Effect::Allow},
      {"mq:ApplyToken", {arn("topic/c/T")}, Effect::ImplicitDeny},
  };
  check(*set, rows);
}

TEST(Evaluate, NotActionAndNotResource) {
  auto set = compile({grant("NA", R"({"Version":"1","Statement":[
    {"Effect":"Allow","NotAction":["mq:Delete*","ram:*"],"Resource":"*"},
    {"Effect":"Deny","Action":"mq:PUB","NotResource":["acs:mq:*:*:topic/a/Open","acs:mq:*:*:topic/a/Open/*"]}]})")});
  const Row rows[] = {
      {"mq:CreateTopic", {arn("instance/a")}, Effect::Allow},
      {"mq:DeleteInstance", {arn("instance/a")}, Effect::ImplicitDeny},
      {"MQ:deleteTopic", {arn("instance/a")}, Effect::ImplicitDeny},
      {"ram:CreateUser", {"*"}, Effect::ImplicitDeny},
      {"mq:PUB", {arn("topic/a/Open")}, Effect::Allow},
      {"mq:PUB", {arn("topic/a/Open/x")}, Effect::Allow},
      {"mq:PUB", {arn("topic/a/Closed")}, Effect::Deny},
      // Any resource of the request may satisfy a statement: the parent is outside
      // the NotResource list, so the Deny applies.
      {"mq:PUB", {arn("topic/a/Open/x"), arn("topic/a/Closed")}, Effect::Deny},
      {"mq:SUB", {arn("topic/a/Closed")}, Effect::Allow},
  };
  check(*set, rows);
}

TEST(Evaluate, ResourcesWithMoreColonsOrOddShapes) {
  auto set = compile({grant("Odd", R"({"Version":"1","Statement":[
    {"Effect":"Allow","Action":"mq:PUB","Resource":"acs:mq:*:*:topic/a/T"},
    {"Effect":"Allow","Action":"mq:SUB","Resource":"acs:mq:*"},
    {"Effect":"Allow","Action":"mq:GetX","Resource":"acs:mq:*:1:x:y"}]})")});
  const Row rows[] = {
      {"mq:PUB", {"acs:mq:r:1:topic/a/T"}, Effect::Allow},
      {"mq:PUB", {"acs:mq:r:1:2:topic/a/T"}, Effect::Allow},  // '*' in the region absorbs "r:1"
      {"mq:PUB", {"acs:mq:r:topic/a/T"}, Effect::ImplicitDeny},
      {"mq:SUB", {"acs:mq:anything:at:all"}, Effect::Allow},
      {"mq:GetX", {"acs:mq:r:1:x:y"}, Effect::Allow},
      {"mq:GetX", {"acs:mq:r:0:1:x:y"}, Effect::Allow},
      {"mq:GetX", {"acs:mq:r:0:x:y"}, Effect::ImplicitDeny},
      {"mq:PUB", {""}, Effect::ImplicitDeny},
  };
  check(*set, rows);
}

TEST(Evaluate, GrantsWithoutDocumentsAreSkipped) {
  Grant empty;
  empty.policy_name = "Broken";
  std::vector<Grant> gs{empty, grant("A", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})")};
  auto set = CompiledSet::compile(gs);
  Decision d = Ask{"mq:PUB", {arn("topic/a/T")}}.on(*set);
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.grant_index, 1);
}

TEST(Evaluate, ManyResourcesInOneRequest) {
  auto set = compile({grant("A", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:PUB","Resource":"acs:mq:*:*:topic/a/T11"}]})")});
  std::vector<std::string> res;
  for (int i = 0; i < 12; ++i) res.push_back(arn("topic/a/T" + std::to_string(i)));
  EXPECT_TRUE((Ask{"mq:PUB", res}.on(*set).allowed()));
  res.pop_back();
  EXPECT_FALSE((Ask{"mq:PUB", res}.on(*set).allowed()));
}

TEST(Evaluate, NoResourcesMatchesNothing) {
  auto set = compile({grant("A", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})")});
  Decision d = Ask{"mq:PUB", {}}.on(*set);
  EXPECT_EQ(d.effect, Effect::ImplicitDeny);
}

TEST(Evaluate, SharedDocumentsAcrossSets) {
  auto doc = must_parse(R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:PUB","Resource":"*"}]})");
  Grant g;
  g.policy_name = "P";
  g.doc = doc;
  auto a = CompiledSet::compile({g});
  auto b = CompiledSet::compile({g, g});
  EXPECT_TRUE((Ask{"mq:PUB", {arn("topic/a/T")}}.on(*a).allowed()));
  EXPECT_TRUE((Ask{"mq:PUB", {arn("topic/a/T")}}.on(*b).allowed()));
  EXPECT_EQ(doc.use_count(), 5);  // doc, g, a's grant, b's two
}

}  // namespace
}  // namespace sluice::iam::policy

namespace sluice::iam::policy {
namespace {
using namespace testing;

TEST(Evaluate, AutoIndexingBuildsTheIndexOnReuse) {
  std::vector<Grant> gs{grant("A", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:PUB","Resource":"acs:mq:*:*:topic/a/T"},{"Effect":"Deny","Action":"mq:PUB","Resource":"acs:mq:*:*:topic/a/T/x"}]})")};
  auto set = CompiledSet::compile(gs);
  EXPECT_EQ(set->statements(), 2u);
  EXPECT_FALSE(set->indexed());
  std::vector<std::string> allow{"acs:mq:r:1:topic/a/T"}, deny{"acs:mq:r:1:topic/a/T/x", "acs:mq:r:1:topic/a/T"};
  Request ra, rd;
  ra.action = rd.action = "mq:PUB";
  ra.resources = allow;
  rd.resources = deny;
  for (uint32_t i = 0; i < CompiledSet::kLazyIndexAfter + 3; ++i) {
    // The kLazyIndexAfter-th decision builds the index; answers do not change.
    EXPECT_EQ(set->indexed(), i >= CompiledSet::kLazyIndexAfter) << i;
    if (i % 2) EXPECT_TRUE(set->evaluate(ra).allowed());
    else EXPECT_EQ(set->evaluate(rd).effect, Effect::Deny);
  }
  EXPECT_TRUE(set->indexed());
  EXPECT_TRUE(CompiledSet::compile(gs, CompiledSet::Indexing::Eager)->indexed());
  EXPECT_FALSE(CompiledSet::compile(gs, CompiledSet::Indexing::Never)->indexed());
}

TEST(Evaluate, LargeSetsIndexAtCompile) {
  std::string doc = R"({"Version":"1","Statement":[)";
  for (size_t i = 0; i <= CompiledSet::kLazyIndexMaxStatements; ++i)
    doc += std::string(i ? "," : "") + R"({"Effect":"Allow","Action":"mq:PUB","Resource":"acs:mq:*:*:topic/a/T)" + std::to_string(i) + "\"}";
  doc += "]}";
  ParseResult p = parse(doc, 1 << 20);
  ASSERT_TRUE(p.ok()) << p.error;
  Grant g;
  g.policy_name = "Big";
  g.doc = p.doc;
  auto set = CompiledSet::compile({g});
  EXPECT_TRUE(set->indexed());
  Decision d = Ask{"mq:PUB", {"acs:mq:r:1:topic/a/T1999/x", "acs:mq:r:1:topic/a/T1999"}}.on(*set);
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.statement_index, 1999);
}

TEST(Evaluate, ConcurrentFirstDecisionsBuildTheIndexOnce) {
  auto set = compile({grant("A", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:*","Resource":"acs:mq:*:*:topic/a/*"}]})")});
  std::vector<std::string> res{"acs:mq:r:1:topic/a/T"};
  Request r;
  r.action = "mq:SUB";
  r.resources = res;
  std::atomic<int> allowed{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) allowed += set->evaluate(r).allowed();
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(allowed.load(), 4000);
  EXPECT_TRUE(set->indexed());
}

}  // namespace
}  // namespace sluice::iam::policy
