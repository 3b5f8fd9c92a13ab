// Each condition operator: matching values, non-matching values, absent keys,
// OR across values, AND across keys and operators.
#include "iam/policy/test_util.hpp"

namespace sluice::iam::policy {
namespace {
using namespace testing;

// Decides mq:PUB on "*" with one condition block and the given context.
bool holds(const std::string& condition, const Context& ctx) {
  auto set = compile({grant("C", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":)" + condition + "}]}")});
  Ask a{"mq:PUB", {"acs:mq:local:1:topic/x/T"}, "", &ctx};
  return a.on(*set).allowed();
}

Context ctx1(const std::string& k, const std::string& v) {
  Context c;
  c.set(k, v);
  return c;
}

struct Case {
  const char* cond;
  const char* key;
  const char* value;  // nullptr: key absent
  bool want;
};

void run(std::span<const Case> cases) {
  for (const Case& c : cases) {
    Context ctx;
    if (c.value) ctx.set(c.key, c.value);
    else ctx.set("unrelated:Key", "x");
    EXPECT_EQ(holds(c.cond, ctx), c.want) << c.cond << " with " << c.key << "=" << (c.value ? c.value : "(absent)");
  }
}

TEST(Condition, StringOperators) {
  const Case cases[] = {
      {R"({"StringEquals":{"mq:ClientId":"GID_a@@@1"}})", "mq:ClientId", "GID_a@@@1", true},
      {R"({"StringEquals":{"mq:ClientId":"GID_a@@@1"}})", "mq:ClientId", "gid_a@@@1", false},
      {R"({"StringEquals":{"mq:ClientId":["x","GID_a@@@1"]}})", "mq:ClientId", "GID_a@@@1", true},
      {R"({"StringEquals":{"mq:ClientId":"GID_a@@@1"}})", "mq:ClientId", nullptr, false},
      {R"({"StringEquals":{"mq:ClientId":"GID_a@@@1"}})", "mq:clientid", "GID_a@@@1", false},  // keys case-sensitive
      {R"({"StringEquals":{"mq:Qos":1}})", "mq:Qos", "1", true},
      {R"({"StringNotEquals":{"mq:GroupId":["GID_a","GID_b"]}})", "mq:GroupId", "GID_c", true},
      {R"({"StringNotEquals":{"mq:GroupId":["GID_a","GID_b"]}})", "mq:GroupId", "GID_b", false},
      {R"({"StringNotEquals":{"mq:GroupId":"GID_a"}})", "mq:GroupId", nullptr, false},  // absent: no match, even negated
      {R"({"StringEqualsIgnoreCase":{"mq:GroupId":"gid_ABC"}})", "mq:GroupId", "GID_abc", true},
      {R"({"StringEqualsIgnoreCase":{"mq:GroupId":"gid_ABC"}})", "mq:GroupId", "GID_abd", false},
      {R"({"StringEqualsIgnoreCase":{"mq:GroupId":"gid_ABC"}})", "mq:GroupId", nullptr, false},
      {R"({"StringNotEqualsIgnoreCase":{"mq:GroupId":"gid_ABC"}})", "mq:GroupId", "GID_abc", false},
      {R"({"StringNotEqualsIgnoreCase":{"mq:GroupId":"gid_ABC"}})", "mq:GroupId", "GID_x", true},
      {R"({"StringNotEqualsIgnoreCase":{"mq:GroupId":"gid_ABC"}})", "mq:GroupId", nullptr, false},
      {R"({"StringLike":{"mq:ClientId":"GID_a@@@*"}})", "mq:ClientId", "GID_a@@@dev-1", true},
      {R"({"StringLike":{"mq:ClientId":"GID_a@@@dev-?"}})", "mq:ClientId", "GID_a@@@dev-12", false},
      {R"({"StringLike":{"mq:ClientId":["GID_b@@@*","GID_a@@@dev-??"]}})", "mq:ClientId", "GID_a@@@dev-12", true},
      {R"({"StringLike":{"mq:ClientId":"gid_a@@@*"}})", "mq:ClientId", "GID_a@@@1", false},  // case-sensitive
      {R"({"StringLike":{"mq:ClientId":"*"}})", "mq:ClientId", nullptr, false},
      {R"({"StringNotLike":{"mq:ClientId":["GID_a@@@*","GID_b@@@*"]}})", "mq:ClientId", "GID_c@@@1", true},
      {R"({"StringNotLike":{"mq:ClientId":["GID_a@@@*","GID_b@@@*"]}})", "mq:ClientId", "GID_b@@@1", false},
      {R"({"StringNotLike":{"mq:ClientId":"GID_a@@@*"}})", "mq:ClientId", nullptr, false},
  };
  run(cases);
}

TEST(Condition, NumericOperators) {
  const Case cases[] = {
      {R"({"NumericEquals":{"mq:Qos":1}})", "mq:Qos", "1", true},
      {R"({"NumericEquals":{"mq:Qos":"1.0"}})", "mq:Qos", "1", true},
      {R"({"NumericEquals":{"mq:Qos":[0,2]}})", "mq:Qos", "1", false},
      {R"({"NumericEquals":{"mq:Qos":1}})", "mq:Qos", "one", false},  // unparsable request value
      {R"({"NumericEquals":{"mq:Qos":1}})", "mq:Qos", nullptr, false},
      {R"({"NumericNotEquals":{"mq:Qos":[0,2]}})", "mq:Qos", "1", true},
      {R"({"NumericNotEquals":{"mq:Qos":[0,2]}})", "mq:Qos", "2", false},
      {R"({"NumericNotEquals":{"mq:Qos":2}})", "mq:Qos", nullptr, false},
      {R"({"NumericNotEquals":{"mq:Qos":2}})", "mq:Qos", "x", false},
      {R"({"NumericLessThan":{"mq:Qos":2}})", "mq:Qos", "1", true},
      {R"({"NumericLessThan":{"mq:Qos":2}})", "mq:Qos", "2", false},
      {R"({"NumericLessThanEquals":{"mq:Qos":2}})", "mq:Qos", "2", true},
      {R"({"NumericLessThanEquals":{"mq:Qos":2}})", "mq:Qos", "2.5", false},
      {R"({"NumericGreaterThan":{"mq:Qos":0}})", "mq:Qos", "1", true},
      {R"({"NumericGreaterThan":{"mq:Qos":0}})", "mq:Qos", "0", false},
      {R"({"NumericGreaterThan":{"mq:Qos":0}})", "mq:Qos", "-1e2", false},
      {R"({"NumericGreaterThanEquals":{"mq:Qos":"0"}})", "mq:Qos", "0", true},
      {R"({"NumericGreaterThanEquals":{"mq:Qos":"0"}})", "mq:Qos", nullptr, false},
  };
  run(cases);
}

TEST(Condition, DateOperators) {
  const Case cases[] = {
      {R"({"DateLessThan":{"acs:CurrentTime":"2026-12-31T00:00:00Z"}})", "acs:CurrentTime", "2026-11-28T01:00:00Z", true},
      {R"({"DateLessThan":{"acs:CurrentTime":"2026-12-31T00:00:00Z"}})", "acs:CurrentTime", "2027-01-01T00:00:00Z", false},
      {R"({"DateLessThan":{"acs:CurrentTime":"2026-12-31"}})", "acs:CurrentTime", "2026-12-30T23:59:59.999Z", true},
      {R"({"DateLessThan":{"acs:CurrentTime":"2026-12-31"}})", "acs:CurrentTime", nullptr, false},
      {R"({"DateLessThan":{"acs:CurrentTime":"2026-12-31"}})", "acs:CurrentTime", "soon", false},
      {R"({"DateEquals":{"acs:CurrentTime":"2026-01-01T08:00:00+08:00"}})", "acs:CurrentTime", "2026-01-01T00:00:00Z", true},
      {R"({"DateEquals":{"acs:CurrentTime":1767225600}})", "acs:CurrentTime", "2026-01-01T00:00:00Z", true},
      {R"({"DateEquals":{"acs:CurrentTime":"1767225600"}})", "acs:CurrentTime", "2026-01-01T00:00:01Z", false},
      {R"({"DateNotEquals":{"acs:CurrentTime":"2026-01-01"}})", "acs:CurrentTime", "2026-01-02", true},
      {R"({"DateNotEquals":{"acs:CurrentTime":"2026-01-01"}})", "acs:CurrentTime", "2026-01-01T00:00:00Z", false},
      {R"({"DateNotEquals":{"acs:CurrentTime":"2026-01-01"}})", "acs:CurrentTime", nullptr, false},
      {R"({"DateLessThanEquals":{"acs:CurrentTime":"2026-01-01T00:00:00Z"}})", "acs:CurrentTime", "2026-01-01T00:00:00Z", true},
      {R"({"DateGreaterThan":{"acs:CurrentTime":"2026-01-01T00:00:00Z"}})", "acs:CurrentTime", "2026-01-01T00:00:00Z", false},
      {R"({"DateGreaterThan":{"acs:CurrentTime":"2026-01-01T00:00:00Z"}})", "acs:CurrentTime", "2025-12-31T23:30:00-01:00", true},
      {R"({"DateGreaterThanEquals":{"acs:CurrentTime":["2030-01-01","2026-01-01"]}})", "acs:CurrentTime", "2026-06-01T12:00Z", true},
      {R"({"DateGreaterThanEquals":{"acs:CurrentTime":"2024-02-29"}})", "acs:CurrentTime", "2024-02-29", true},
  };
  run(cases);
}

TEST(Condition, BoolOperator) {
  const Case cases[] = {
      {R"({"Bool":{"acs:SecureTransport":true}})", "acs:SecureTransport", "true", true},
      {R"({"Bool":{"acs:SecureTransport":"true"}})", "acs:SecureTransport", "True", true},
      {R"({"Bool":{"acs:SecureTransport":true}})", "acs:SecureTransport", "false", false},
      {R"({"Bool":{"acs:SecureTransport":false}})", "acs:SecureTransport", "false", true},
      {R"({"Bool":{"acs:SecureTransport":true}})", "acs:SecureTransport", "1", false},
      {R"({"Bool":{"acs:MFAPresent":false}})", "acs:MFAPresent", nullptr, false},
  };
  run(cases);
}

TEST(Condition, IpOperators) {
  const Case cases[] = {
      {R"({"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}})", "acs:SourceIp", "10.200.3.4", true},
      {R"({"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}})", "acs:SourceIp", "11.0.0.1", false},
      {R"({"IpAddress":{"acs:SourceIp":"10.1.2.3/8"}})", "acs:SourceIp", "10.9.9.9", true},  // host bits ignored
      {R"({"IpAddress":{"acs:SourceIp":"192.168.1.7"}})", "acs:SourceIp", "192.168.1.7", true},
      {R"({"IpAddress":{"acs:SourceIp":"192.168.1.7"}})", "acs:SourceIp", "192.168.1.8", false},
      {R"({"IpAddress":{"acs:SourceIp":"172.16.0.0/12"}})", "acs:SourceIp", "172.31.255.255", true},
      {R"({"IpAddress":{"acs:SourceIp":"172.16.0.0/12"}})", "acs:SourceIp", "172.32.0.0", false},
      {R"({"IpAddress":{"acs:SourceIp":"0.0.0.0/0"}})", "acs:SourceIp", "8.8.8.8", true},
      {R"({"IpAddress":{"acs:SourceIp":"0.0.0.0/0"}})", "acs:SourceIp", "::1", false},  // families don't mix
      {R"({"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}})", "acs:SourceIp", "::ffff:10.1.1.1", true},  // v4-mapped
      {R"({"IpAddress":{"acs:SourceIp":"2001:db8::/32"}})", "acs:SourceIp", "2001:db8:ffff::1", true},
      {R"({"IpAddress":{"acs:SourceIp":"2001:db8::/32"}})", "acs:SourceIp", "2001:db9::1", false},
      {R"({"IpAddress":{"acs:SourceIp":"2001:db8::/33"}})", "acs:SourceIp", "2001:db8:8000::1", false},
      {R"({"IpAddress":{"acs:SourceIp":"::1"}})", "acs:SourceIp", "::1", true},
      {R"({"IpAddress":{"acs:SourceIp":["10.0.0.0/8","fd00::/8"]}})", "acs:SourceIp", "fd12::5", true},
      {R"({"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}})", "acs:SourceIp", "not-an-ip", false},
      {R"({"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}})", "acs:SourceIp", "10.0.0.0/8", false},  // request side is an address
      {R"({"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}})", "acs:SourceIp", nullptr, false},
      {R"({"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}})", "acs:SourceIp", "8.8.8.8", true},
      {R"({"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}})", "acs:SourceIp", "192.168.5.5", false},
      {R"({"NotIpAddress":{"acs:SourceIp":"fe80::/10"}})", "acs:SourceIp", "fe80::1", false},
      {R"({"NotIpAddress":{"acs:SourceIp":"fe80::/10"}})", "acs:SourceIp", "2001::1", true},
      {R"({"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}})", "acs:SourceIp", nullptr, false},
      {R"({"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}})", "acs:SourceIp", "garbage", false},
  };
  run(cases);
}

TEST(Condition, KeysAndOperatorsAreAnded) {
  const std::string cond = R"({"IpAddress":{"acs:SourceIp":"10.0.0.0/8"},"StringLike":{"mq:ClientId":"GID_a@@@*","mq:GroupId":"GID_a"}})";
  Context all;
  all.set("acs:SourceIp", "10.0.0.1");
  all.set("mq:ClientId", "GID_a@@@1");
  all.set("mq:GroupId", "GID_a");
  EXPECT_TRUE(holds(cond, all));
  Context wrong_ip = all;
  wrong_ip = Context();
  wrong_ip.set("acs:SourceIp", "11.0.0.1");
  wrong_ip.set("mq:ClientId", "GID_a@@@1");
  wrong_ip.set("mq:GroupId", "GID_a");
  EXPECT_FALSE(holds(cond, wrong_ip));
  Context missing_group;
  missing_group.set("acs:SourceIp", "10.0.0.1");
  missing_group.set("mq:ClientId", "GID_a@@@1");
  EXPECT_FALSE(holds(cond, missing_group));
}

TEST(Condition, NoContextMeansEveryKeyIsAbsent) {
  auto set = compile({grant("C", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"mq:ClientId":"x"}}}]})")});
  Ask a{"mq:PUB", {"acs:mq:local:1:topic/x/T"}};
  EXPECT_FALSE(a.on(*set).allowed());
}

TEST(Condition, SeveralValuesOfOneKeyInTheRequest) {
  // A key offered twice: the condition holds if any offered value satisfies it.
  Context c;
  c.set("acs:SourceIp", "11.0.0.1");
  c.set("acs:SourceIp", "10.0.0.1");
  EXPECT_TRUE(holds(R"({"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}})", c));
  EXPECT_EQ(c.get("acs:SourceIp").size(), 2u);
  EXPECT_TRUE(c.get("acs:Nothing").empty());
}

TEST(Condition, DenyWithConditionOnlyWhenItHolds) {
  auto set = compile({grant("A", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:*","Resource":"*"}]})"),
                      grant("D", R"({"Version":"1","Statement":[{"Effect":"Deny","Action":"mq:*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]})")});
  Context inside = ctx1("acs:SourceIp", "10.1.1.1"), outside = ctx1("acs:SourceIp", "8.8.8.8");
  Ask a{"mq:PUB", {"acs:mq:local:1:topic/x/T"}, "", &inside};
  EXPECT_TRUE(a.on(*set).allowed());
  a.ctx = &outside;
  EXPECT_EQ(a.on(*set).effect, Effect::Deny);
  a.ctx = nullptr;  // no SourceIp offered: the Deny's condition cannot hold
  EXPECT_TRUE(a.on(*set).allowed());
}

}  // namespace
}  // namespace sluice::iam::policy
