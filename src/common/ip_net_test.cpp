#include "common/ip_net.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

using namespace sluice::common;

namespace {

IpNet net(const char* text) {
  IpNet n;
  EXPECT_TRUE(parse_ip_net(text, n)) << text;
  return n;
}

IpNet addr(const char* text) {
  IpNet n;
  EXPECT_TRUE(parse_ip_addr(text, n)) << text;
  return n;
}

}  // namespace

TEST(IpNet, NetworksAndAddresses) {
  EXPECT_TRUE(ip_in_net(addr("10.255.0.1"), net("10.0.0.0/8")));
  EXPECT_FALSE(ip_in_net(addr("11.0.0.1"), net("10.0.0.0/8")));
  EXPECT_TRUE(ip_in_net(addr("192.168.1.1"), net("192.168.1.1")));  // a bare address is a /32
  EXPECT_FALSE(ip_in_net(addr("192.168.1.2"), net("192.168.1.1")));
  EXPECT_TRUE(ip_in_net(addr("fd00::5"), net("fd00::/8")));
  EXPECT_FALSE(ip_in_net(addr("fe80::1"), net("fd00::/8")));
  EXPECT_TRUE(ip_in_net(addr("10.1.2.3"), net("10.1.2.99/25")));  // host bits masked off
  EXPECT_EQ(net("10.1.2.99/24").addr[3], 0);
  EXPECT_TRUE(ip_in_net(addr("1.2.3.4"), net("0.0.0.0/0")));
  EXPECT_FALSE(ip_in_net(addr("::1"), net("0.0.0.0/0")));  // families never mix
}

TEST(IpNet, MappedIpv4IsIpv4) {
  // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; policies name it as IPv4.
  const IpNet a = addr("::ffff:10.0.0.7");
  EXPECT_FALSE(a.v6);
  EXPECT_TRUE(ip_in_net(a, net("10.0.0.0/8")));
  sockaddr_in6 s6{};
  s6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr), 1);
  const auto b = ip_of(reinterpret_cast<const sockaddr*>(&s6));
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->v6);
  EXPECT_TRUE(ip_in_net(*b, net("127.0.0.0/8")));
  sockaddr_in s4{};
  s4.sin_family = AF_INET;
  ASSERT_EQ(inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr), 1);
  EXPECT_TRUE(ip_in_net(*ip_of(reinterpret_cast<const sockaddr*>(&s4)), net("192.0.2.0/24")));
  sockaddr unix_addr{};
  unix_addr.sa_family = AF_UNIX;
  EXPECT_FALSE(ip_of(&unix_addr));
}

TEST(IpNet, RefusesWhatDoesNotParse) {
  IpNet n;
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0/8", "x", "10.0.0.0/", "10.0.0.0/1a", "", "/8",
                          "10.0.0.0/0008", "1.2.3.4 "})
    EXPECT_FALSE(parse_ip_net(bad, n)) << bad;
  EXPECT_FALSE(parse_ip_addr("10.0.0.0/8", n));  // an address has no prefix
}
