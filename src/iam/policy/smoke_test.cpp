// End-to-end smoke test: parse, compile, decide, explain.
#include "iam/policy/test_util.hpp"

namespace sluice::iam::policy {
namespace {
using namespace testing;

TEST(PolicySmoke, AllowDenyExplain) {
  auto set = compile({grant("PubSensors", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:PUB","Resource":"acs:mq:*:*:topic/mqtt-local-x/Sensors"}]})"),
                      grant("DenyOne", R"({"Version":"1","Statement":[{"Sid":"x","Effect":"Deny","Action":"mq:pub","Resource":"acs:mq:*:*:topic/mqtt-local-x/Sensors/secret"}]})", "group:ops")});
  Ask a{"mq:PUB", {"acs:mq:local:1234567890123456:topic/mqtt-local-x/Sensors/a", "acs:mq:local:1234567890123456:topic/mqtt-local-x/Sensors"}};
  Decision d = a.on(*set);
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.grant_index, 0);
  EXPECT_EQ(d.explain(set->grants()), "Allow by policy PubSensors (Custom, v1) statement 0 at Account via user");
  Ask b{"MQ:Pub", {"acs:mq:local:1234567890123456:topic/mqtt-local-x/Sensors/secret", "acs:mq:local:1234567890123456:topic/mqtt-local-x/Sensors"}};
  d = b.on(*set);
  EXPECT_EQ(d.effect, Effect::Deny);
  EXPECT_EQ(d.explain(set->grants()), "Deny by policy DenyOne (Custom, v1) statement 0 (Sid \"x\") at Account via group:ops");
  Ask c{"mq:SUB", {"acs:mq:local:1234567890123456:topic/mqtt-local-x/Sensors"}};
  d = c.on(*set);
  EXPECT_EQ(d.effect, Effect::ImplicitDeny);
  EXPECT_EQ(d.explain(set->grants()), "no statement matched: implicit deny");
}

TEST(PolicySmoke, ParseError) {
  ParseResult r = parse(R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqual":{"a":"b"}}}]})");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "MalformedPolicyDocument: Statement[1].Condition: unknown operator \"StringEqual\"");
}

}  // namespace
}  // namespace sluice::iam::policy
