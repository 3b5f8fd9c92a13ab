#include "net/pending_handshakes.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

using sluice::net::PendingHandshakes;
using sluice::net::SourceAddress;

namespace {
SourceAddress v4(const char* ip) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, ip, &a.sin_addr);
  return SourceAddress::of(reinterpret_cast<const sockaddr*>(&a));
}
SourceAddress v6(const char* ip) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  inet_pton(AF_INET6, ip, &a.sin6_addr);
  return SourceAddress::of(reinterpret_cast<const sockaddr*>(&a));
}
}  // namespace

TEST(SourceAddress, IPv4IsTheSameSourceOnADualStackListener) {
  EXPECT_EQ(v4("10.0.0.1"), v6("::ffff:10.0.0.1"));
  EXPECT_FALSE(v4("10.0.0.1") == v4("10.0.0.2"));
  EXPECT_EQ(v4("127.0.0.2").text(), "127.0.0.2");
  EXPECT_EQ(v6("2001:db8::7").text(), "2001:db8::7");
  EXPECT_FALSE(v6("2001:db8::7") == v6("2001:db8::8"));
}

TEST(PendingHandshakes, CapPerSourceAndRoomAgainAfterEnd) {
  PendingHandshakes p(2);
  const auto a = v4("10.0.0.1"), b = v4("10.0.0.2");
  EXPECT_TRUE(p.begin(a));
  EXPECT_TRUE(p.begin(a));
  EXPECT_FALSE(p.begin(a)) << "a third pending connection from one address";
  EXPECT_TRUE(p.begin(b)) << "another address has its own count";
  p.end(a);
  EXPECT_TRUE(p.begin(a)) << "a completed handshake makes room";
  EXPECT_FALSE(p.begin(a));
}

TEST(PendingHandshakes, PruneForgetsAddressesWithNothingPending) {
  PendingHandshakes p(1);
  const auto a = v4("10.0.0.1"), b = v4("10.0.0.2");
  EXPECT_TRUE(p.begin(a));
  EXPECT_TRUE(p.begin(b));
  p.end(a);
  p.end(a);  // an unmatched end is harmless
  EXPECT_TRUE(p.begin(a));
  p.end(a);
  p.prune();
  EXPECT_EQ(p.sources(), 1u) << "b still has one pending";
  p.end(b);
  p.prune();
  EXPECT_EQ(p.sources(), 0u);
}

TEST(PendingHandshakes, ZeroMeansNoCap) {
  PendingHandshakes p(0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(p.begin(v4("10.0.0.1")));
  EXPECT_EQ(p.sources(), 0u);
}
