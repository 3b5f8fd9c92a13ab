// Grammar: every element accepted, every error message with its location.
#include <gtest/gtest.h>

#include "iam/policy/document.hpp"
#include "iam/policy/json_checks.hpp"

namespace sluice::iam::policy {
namespace {

std::string stmt_doc(const std::string& stmt) { return R"({"Version":"1","Statement":[)" + stmt + "]}"; }

TEST(PolicyParse, MinimalAndFull) {
  ParseResult r = parse(R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:PUB","Resource":"*"}]})");
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.doc->statements.size(), 1u);
  const Statement& s = r.doc->statements[0];
  EXPECT_EQ(s.effect, Effect::Allow);
  EXPECT_FALSE(s.has_sid);
  EXPECT_EQ(s.actions, std::vector<std::string>{"mq:PUB"});
  EXPECT_EQ(s.resources, std::vector<std::string>{"*"});

  r = parse(R"({"Statement":[{"Sid":"a1","Effect":"Deny","NotAction":["mq:SUB","ram:*"],
     "NotResource":["acs:mq:*:*:topic/x/T","acs:mq:*:*:groupId/x/GID_a"],
     "Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"Bool":{"acs:SecureTransport":true}}}],
     "Version":"1"})");
  ASSERT_TRUE(r.ok()) << r.error;
  const Statement& t = r.doc->statements[0];
  EXPECT_TRUE(t.has_sid);
  EXPECT_EQ(t.sid, "a1");
  EXPECT_EQ(t.effect, Effect::Deny);
  EXPECT_TRUE(t.not_action);
  EXPECT_TRUE(t.not_resource);
  EXPECT_EQ(t.actions.size(), 2u);
  EXPECT_EQ(t.resources.size(), 2u);
  ASSERT_EQ(t.conditions.size(), 2u);
  EXPECT_EQ(t.conditions[0].op, ConditionOp::IpAddress);
  EXPECT_EQ(t.conditions[0].key, "acs:SourceIp");
  EXPECT_EQ(t.conditions[0].values.size(), 2u);
  EXPECT_EQ(t.conditions[1].op, ConditionOp::Bool);
  EXPECT_TRUE(t.conditions[1].values[0].boolean);
}

TEST(PolicyParse, StatementAsSingleObject) {
  ParseResult r = parse(R"({"Version":"1","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.doc->statements.size(), 1u);
  r = parse(R"({"Version":"1","Statement":{"Effect":"Allow","Action":"*"}})");
  EXPECT_EQ(r.error, "MalformedPolicyDocument: Statement: missing Resource or NotResource");
}

TEST(PolicyParse, ActionForms) {
  for (const char* a : {"\"*\"", "\"mq:PUB\"", "\"mq:*\"", "\"*:List*\"", "\"mq:Get?\"", "[\"mq:PUB\",\"mq:SUB\"]",
                        "\"mq-as:List*\"", "\"rocketmq:SubmitQuery*\"", "\"ecs:Describe.Instances\""}) {
    ParseResult r = parse(stmt_doc(std::string(R"({"Effect":"Allow","Resource":"*","Action":)") + a + "}"));
    EXPECT_TRUE(r.ok()) << a << ": " << r.error;
  }
}

TEST(PolicyParse, ConditionValueForms) {
  const char* docs[] = {
      R"({"StringEquals":{"mq:ClientId":"GID_a@@@1"}})",
      R"({"StringEquals":{"mq:Qos":1}})",
      R"({"StringLike":{"mq:ClientId":["GID_a@@@*","GID_b@@@?"]}})",
      R"({"NumericLessThanEquals":{"mq:Qos":"1"}})",
      R"({"NumericGreaterThan":{"mq:Qos":0.5}})",
      R"({"NumericEquals":{"mq:Qos":-2e3}})",
      R"({"DateLessThan":{"acs:CurrentTime":"2026-12-31T23:59:59Z"}})",
      R"({"DateGreaterThan":{"acs:CurrentTime":"2026-01-01"}})",
      R"({"DateEquals":{"acs:CurrentTime":"2026-01-01T08:00:00+08:00"}})",
      R"({"DateEquals":{"acs:CurrentTime":"2026-01-01T08:00:00.250-0130"}})",
      R"({"DateGreaterThanEquals":{"acs:CurrentTime":1767225600}})",
      R"({"DateLessThanEquals":{"acs:CurrentTime":"1767225600"}})",
      R"({"Bool":{"acs:SecureTransport":"TRUE"}})",
      R"({"Bool":{"acs:MFAPresent":false}})",
      R"({"IpAddress":{"acs:SourceIp":"192.168.1.1"}})",
      R"({"NotIpAddress":{"acs:SourceIp":["::1","fe80::/10","0.0.0.0/0"]}})",
      R"({})",
  };
  for (const char* c : docs) {
    ParseResult r = parse(stmt_doc(std::string(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":)") + c + "}"));
    EXPECT_TRUE(r.ok()) << c << ": " << r.error;
  }
}

struct Bad {
  std::string json;
  std::string error;
};

TEST(PolicyParse, ErrorsNameTheFirstProblemAndWhere) {
  const std::string ok = R"("Effect":"Allow","Action":"*","Resource":"*")";
  const Bad cases[] = {
      {"", "MalformedPolicyDocument: invalid JSON at offset 0: incomplete JSON"},
      {"{\"Version\":\"1\",", "MalformedPolicyDocument: invalid JSON at offset 15: incomplete JSON"},
      {"{\"Version\":\"1\" x}", "MalformedPolicyDocument: invalid JSON at offset 15: syntax error"},
      {"{} x", "MalformedPolicyDocument: invalid JSON at offset 3: extra data"},
      {"[1]", "MalformedPolicyDocument: the document must be an object, not an array"},
      {R"({"Statement":[{)" + ok + "}]}", "MalformedPolicyDocument: missing Version"},
      {R"({"Version":"1"})", "MalformedPolicyDocument: missing Statement"},
      {R"({"Version":"2","Statement":[]})", "MalformedPolicyDocument: Version: must be \"1\", not \"2\""},
      {R"({"Version":1,"Statement":[]})", "MalformedPolicyDocument: Version: must be \"1\", not a number"},
      {R"({"Version":"1","Statement":[],"Id":"x"})", "MalformedPolicyDocument: Statement: must not be empty"},
      {R"({"Version":"1","Id":"x","Statement":[{)" + ok + "}]}", "MalformedPolicyDocument: unknown key \"Id\""},
      {R"({"Version":"1","Statement":"x"})", "MalformedPolicyDocument: Statement: must be an array or an object, not a string"},
      {stmt_doc("{" + ok + "},7"), "MalformedPolicyDocument: Statement[1]: a statement must be an object, not a number"},
      {stmt_doc("{" + ok + R"(,"Principal":"*"})"), "MalformedPolicyDocument: Statement[0]: unknown key \"Principal\""},
      {stmt_doc(R"({"Action":"*","Resource":"*"})"), "MalformedPolicyDocument: Statement[0]: missing Effect"},
      {stmt_doc(R"({"Effect":"allow","Action":"*","Resource":"*"})"), "MalformedPolicyDocument: Statement[0].Effect: must be \"Allow\" or \"Deny\", not \"allow\""},
      {stmt_doc(R"({"Effect":true,"Action":"*","Resource":"*"})"), "MalformedPolicyDocument: Statement[0].Effect: must be \"Allow\" or \"Deny\", not a boolean"},
      {stmt_doc(R"({"Sid":1,)" + ok + "}"), "MalformedPolicyDocument: Statement[0].Sid: must be a string, not a number"},
      {stmt_doc(R"({"Effect":"Allow","Resource":"*"})"), "MalformedPolicyDocument: Statement[0]: missing Action or NotAction"},
      {stmt_doc(R"({"Effect":"Allow","Action":"*"})"), "MalformedPolicyDocument: Statement[0]: missing Resource or NotResource"},
      {stmt_doc(R"({"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"})"), "MalformedPolicyDocument: Statement[0]: has both Action and NotAction"},
      {stmt_doc(R"({"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"})"), "MalformedPolicyDocument: Statement[0]: has both Resource and NotResource"},
      {stmt_doc(R"({"Effect":"Allow","Action":[],"Resource":"*"})"), "MalformedPolicyDocument: Statement[0].Action: must not be empty"},
      {stmt_doc(R"({"Effect":"Allow","Action":"*","Resource":[]})"), "MalformedPolicyDocument: Statement[0].Resource: must not be empty"},
      {stmt_doc(R"({"Effect":"Allow","Action":["mq:PUB",3],"Resource":"*"})"), "MalformedPolicyDocument: Statement[0].Action[1]: must be a string, not a number"},
      {stmt_doc(R"({"Effect":"Allow","Action":"PUB","Resource":"*"})"), "MalformedPolicyDocument: Statement[0].Action: invalid action \"PUB\" (expected \"<service>:<Action>\" or \"*\")"},
      {stmt_doc(R"({"Effect":"Allow","Action":"mq:","Resource":"*"})"), "MalformedPolicyDocument: Statement[0].Action: invalid action \"mq:\" (expected \"<service>:<Action>\" or \"*\")"},
      {stmt_doc(R"({"Effect":"Allow","Action":"mq:a:b","Resource":"*"})"), "MalformedPolicyDocument: Statement[0].Action: invalid action \"mq:a:b\" (expected \"<service>:<Action>\" or \"*\")"},
      {stmt_doc(R"({"Effect":"Allow","NotAction":["mq:PUB","m q:SUB"],"Resource":"*"})"), "MalformedPolicyDocument: Statement[0].NotAction[1]: invalid action \"m q:SUB\" (expected \"<service>:<Action>\" or \"*\")"},
      {stmt_doc(R"({"Effect":"Allow","Action":"*","Resource":"topic/x"})"), "MalformedPolicyDocument: Statement[0].Resource: invalid resource \"topic/x\" (expected \"acs:<service>:<region>:<account>:<id>\" or \"*\")"},
      {stmt_doc(R"({"Effect":"Allow","Action":"*","NotResource":[{}]})"), "MalformedPolicyDocument: Statement[0].NotResource[0]: must be a string, not an object"},
      {stmt_doc("{" + ok + R"(,"Condition":[]})"), "MalformedPolicyDocument: Statement[0].Condition: must be an object, not an array"},
      {stmt_doc("{" + ok + "},{" + ok + R"(,"Condition":{"StringEqual":{"a":"b"}}})"), "MalformedPolicyDocument: Statement[1].Condition: unknown operator \"StringEqual\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"stringequals":{"a":"b"}}})"), "MalformedPolicyDocument: Statement[0].Condition: unknown operator \"stringequals\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"StringEquals":"a"}})"), "MalformedPolicyDocument: Statement[0].Condition.StringEquals: must be an object of condition keys, not a string"},
      {stmt_doc("{" + ok + R"(,"Condition":{"StringEquals":{}}})"), "MalformedPolicyDocument: Statement[0].Condition.StringEquals: must name at least one condition key"},
      {stmt_doc("{" + ok + R"(,"Condition":{"StringEquals":{"":"x"}}})"), "MalformedPolicyDocument: Statement[0].Condition.StringEquals: empty condition key"},
      {stmt_doc("{" + ok + R"(,"Condition":{"StringEquals":{"k":[]}}})"), "MalformedPolicyDocument: Statement[0].Condition.StringEquals.k: must not be empty"},
      {stmt_doc("{" + ok + R"(,"Condition":{"StringEquals":{"k":null}}})"), "MalformedPolicyDocument: Statement[0].Condition.StringEquals.k: condition value must be a string, number or boolean, not null"},
      {stmt_doc("{" + ok + R"(,"Condition":{"StringEquals":{"k":["a",{}]}}})"), "MalformedPolicyDocument: Statement[0].Condition.StringEquals.k[1]: condition value must be a string, number or boolean, not an object"},
      {stmt_doc("{" + ok + R"(,"Condition":{"NumericEquals":{"mq:Qos":"one"}}})"), "MalformedPolicyDocument: Statement[0].Condition.NumericEquals.mq:Qos: not a number: \"one\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"NumericLessThan":{"mq:Qos":true}}})"), "MalformedPolicyDocument: Statement[0].Condition.NumericLessThan.mq:Qos: not a number: \"true\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"NumericLessThan":{"mq:Qos":"inf"}}})"), "MalformedPolicyDocument: Statement[0].Condition.NumericLessThan.mq:Qos: not a number: \"inf\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"DateLessThan":{"acs:CurrentTime":["2026-01-01","2026-02-30"]}}})"), "MalformedPolicyDocument: Statement[0].Condition.DateLessThan.acs:CurrentTime[1]: not an ISO 8601 date or epoch seconds: \"2026-02-30\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"DateLessThan":{"acs:CurrentTime":"yesterday"}}})"), "MalformedPolicyDocument: Statement[0].Condition.DateLessThan.acs:CurrentTime: not an ISO 8601 date or epoch seconds: \"yesterday\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"DateLessThan":{"acs:CurrentTime":"2026-01-01T25:00:00Z"}}})"), "MalformedPolicyDocument: Statement[0].Condition.DateLessThan.acs:CurrentTime: not an ISO 8601 date or epoch seconds: \"2026-01-01T25:00:00Z\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"Bool":{"acs:SecureTransport":"yes"}}})"), "MalformedPolicyDocument: Statement[0].Condition.Bool.acs:SecureTransport: not a boolean (true or false): \"yes\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"Bool":{"acs:SecureTransport":1}}})"), "MalformedPolicyDocument: Statement[0].Condition.Bool.acs:SecureTransport: not a boolean (true or false): \"1\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/33"}}})"), "MalformedPolicyDocument: Statement[0].Condition.IpAddress.acs:SourceIp: not an IP address or CIDR block: \"10.0.0.0/33\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"NotIpAddress":{"acs:SourceIp":["::1","2001:db8::/129"]}}})"), "MalformedPolicyDocument: Statement[0].Condition.NotIpAddress.acs:SourceIp[1]: not an IP address or CIDR block: \"2001:db8::/129\""},
      {stmt_doc("{" + ok + R"(,"Condition":{"IpAddress":{"acs:SourceIp":"10.1.1"}}})"), "MalformedPolicyDocument: Statement[0].Condition.IpAddress.acs:SourceIp: not an IP address or CIDR block: \"10.1.1\""},
      {stmt_doc(R"({"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"})"), "MalformedPolicyDocument: Statement[0].Effect: duplicate key"},
      {R"({"Version":"1","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"a":true,"a":false}}}})", "MalformedPolicyDocument: Statement.Condition.Bool.a: duplicate key"},
  };
  for (const Bad& b : cases) {
    ParseResult r = parse(b.json);
    EXPECT_FALSE(r.ok()) << b.json;
    EXPECT_EQ(r.error, b.error) << b.json;
  }
}

TEST(PolicyParse, SizeLimitCountsCharactersWithoutWhitespace) {
  std::string doc = R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";
  size_t n = counted_chars(doc);
  EXPECT_EQ(n, doc.size());
  EXPECT_TRUE(parse(doc, n).ok());
  ParseResult r = parse(doc, n - 1);
  EXPECT_EQ(r.error, "MalformedPolicyDocument: the document has " + std::to_string(n) + " characters (whitespace excluded); the limit is " + std::to_string(n - 1));
  // Indentation is free, spaces inside strings count, a multi-byte character counts once.
  std::string pretty = "{\n  \"Version\": \"1\",\n\t\"Statement\": [ {\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"} ]\r\n}";
  EXPECT_EQ(counted_chars(pretty), n);
  EXPECT_EQ(counted_chars(R"("a b")"), 5u);
  EXPECT_EQ(counted_chars("\"\xC3\xA9\""), 3u);
  EXPECT_EQ(counted_chars(R"("a\" b")"), 7u);
  // The default limit is RAM's 6,144.
  std::string big = R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":[)";
  while (counted_chars(big) < 6200) big += R"("acs:mq:*:*:topic/mqtt-local-x/T0123456789",)";
  big += R"("*"]}]})";
  EXPECT_FALSE(parse(big).ok());
  EXPECT_TRUE(parse(big, 100000).ok());
}

TEST(PolicyParse, DeepNestingIsAnErrorNotACrash) {
  std::string deep = R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":)";
  for (int i = 0; i < 200; ++i) deep += "[";
  EXPECT_FALSE(parse(deep).ok());
}

TEST(PolicyParse, InvalidUtf8IsRejected) {
  ParseResult r = parse(stmt_doc("{\"Sid\":\"\xff\",\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("invalid JSON"), std::string::npos) << r.error;
}

TEST(PolicyParse, ConditionOperatorNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(ConditionOp::NotIpAddress); ++i) {
    ConditionOp op = static_cast<ConditionOp>(i), back;
    ASSERT_TRUE(condition_op_from_name(condition_op_name(op), back)) << i;
    EXPECT_EQ(back, op);
  }
}

}  // namespace
}  // namespace sluice::iam::policy
