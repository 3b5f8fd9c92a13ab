#include "common/egress.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

using sluice::common::EgressPolicy;
using sluice::common::postgres_param_refused;
using sluice::common::split_url_host;

namespace {

// An address as the connecting code sees it.
struct Addr {
  sockaddr_storage ss{};
  explicit Addr(const char* text) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
      s4->sin_family = AF_INET;
    } else {
      EXPECT_EQ(inet_pton(AF_INET6, text, &s6->sin6_addr), 1) << text;
      s6->sin6_family = AF_INET6;
    }
  }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

}  // namespace

TEST(Egress, LoopbackLinkLocalAndTheLikeAreRefusedByDefault) {
  EgressPolicy p;
  for (const char* a : {"127.0.0.1", "127.5.6.7", "0.0.0.0", "169.254.169.254", "224.0.0.1", "255.255.255.255",
                        "::1", "::", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254"})
    EXPECT_NE(p.refusal(Addr(a).get(), 80), "") << a;
  EXPECT_NE(p.refusal(Addr("169.254.169.254").get(), 80).find("link-local"), std::string::npos);
  EXPECT_NE(p.refusal(Addr("127.0.0.1").get(), 80).find("allowed_target_networks"), std::string::npos);
  // Private networks and public addresses are where backends are.
  for (const char* a : {"10.1.2.3", "172.16.0.9", "192.168.1.1", "93.184.216.34", "fd00::5", "2001:db8::1"})
    EXPECT_EQ(p.refusal(Addr(a).get(), 80), "") << a;
}

TEST(Egress, TheOperatorAllowsNetworksButNeverTheNodesOwnEndpoints) {
  EgressPolicy p;
  EXPECT_EQ(p.allow({"127.0.0.0/8", "fe80::/10"}), std::nullopt);
  EXPECT_EQ(p.allow({"10.0.0.0/8", "nonsense"}), std::optional<std::string>("nonsense"));
  p.reserve("127.0.0.1", 4222);
  EXPECT_EQ(p.refusal(Addr("127.0.0.1").get(), 8080), "");
  EXPECT_EQ(p.refusal(Addr("::ffff:127.0.0.1").get(), 8080), "");
  EXPECT_EQ(p.refusal(Addr("fe80::1").get(), 80), "");
  EXPECT_NE(p.refusal(Addr("127.0.0.1").get(), 4222).find("this server's own"), std::string::npos);
  EXPECT_NE(p.refusal(Addr("::ffff:127.0.0.1").get(), 4222), "");
  EXPECT_NE(p.refusal(Addr("169.254.169.254").get(), 80), "");  // not allowed above
  std::string error;
  EXPECT_TRUE(p.resolve("127.0.0.1", 4222, error).empty());
  EXPECT_NE(error.find("this server's own"), std::string::npos) << error;
  EXPECT_EQ(p.resolve("127.0.0.1", 4223, error).size(), 1u);
}

TEST(Egress, NamesAreCheckedOnTheAddressesTheyResolveTo) {
  EgressPolicy p;
  std::string error;
  EXPECT_TRUE(p.resolve("localhost", 80, error).empty());
  EXPECT_NE(error.find("loopback"), std::string::npos) << error;
  EXPECT_NE(p.refused_host("localhost", 80), "");
  // A name that does not resolve now is the target being down, not refused.
  EXPECT_EQ(p.refused_host("no-such-host.invalid", 80), "");
  EXPECT_TRUE(p.resolve("no-such-host.invalid", 80, error).empty());
  EXPECT_NE(error.find("cannot resolve"), std::string::npos) << error;
  EgressPolicy open;
  ASSERT_EQ(open.allow({"127.0.0.0/8", "::1"}), std::nullopt);
  EXPECT_FALSE(open.resolve("localhost", 80, error).empty());
}

TEST(Egress, UrlHosts) {
  auto u = split_url_host("nats://user:pw@nats.example:4223/x,nats://127.0.0.1:4222");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "nats");
  EXPECT_EQ(u->userinfo, "user:pw");
  EXPECT_EQ(u->host, "nats.example");
  EXPECT_EQ(u->port, 4223);
  EXPECT_EQ(u->rest, "/x,nats://127.0.0.1:4222");
  u = split_url_host("http://[::1]:8080/hook");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  u = split_url_host("postgresql://db.example/archive?sslmode=require");
  ASSERT_TRUE(u);
  EXPECT_EQ((u->host + "|" + std::to_string(u->port) + "|" + u->rest), "db.example|0|/archive?sslmode=require");
  EXPECT_FALSE(split_url_host("no scheme"));
  EXPECT_FALSE(split_url_host("http://:80/"));
  EXPECT_FALSE(split_url_host("http://host:99999999/"));
  std::string why;
  EXPECT_FALSE(split_url_host("http://host:0/", &why));
  EXPECT_EQ(why, "has an invalid port");
  EXPECT_FALSE(split_url_host("http://[::1/", &why));
  EXPECT_EQ(why, "has an invalid host");
  EXPECT_FALSE(split_url_host("http://[::1]x/", &why));
  EXPECT_EQ(why, "has an invalid host");
  EXPECT_FALSE(split_url_host("http://u@/", &why));
  EXPECT_EQ(why, "has no host");
  u = split_url_host("postgres://10.0.0.5?sslmode=disable");  // a query without a path
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "10.0.0.5");
  u = split_url_host("http://host:/x");  // an empty port is the default one
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 0);
}

TEST(Egress, PostgresParametersThatCouldRedirectLibpqAreRefused) {
  EXPECT_EQ(postgres_param_refused("postgresql://u@db/x"), "");
  EXPECT_EQ(postgres_param_refused("postgresql://u@db/x?sslmode=require&application_name=a"), "");
  EXPECT_EQ(postgres_param_refused("postgresql://u@db/x?sslmode=require&hostaddr=127.0.0.1"), "hostaddr");
  EXPECT_EQ(postgres_param_refused("postgresql://u@db/x?port=5433"), "port");
  EXPECT_EQ(postgres_param_refused("postgresql://u@db/x?host=/var/run/postgresql"), "host");
  EXPECT_EQ(postgres_param_refused("postgresql://u@db/x?service=control"), "service");
}
