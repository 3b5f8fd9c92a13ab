#include "net/connect_limiter.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

using sluice::net::ConnectLimiter;

namespace {
sockaddr_in v4(const char* ip) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}
const sockaddr* sa(const sockaddr_in& a) { return reinterpret_cast<const sockaddr*>(&a); }
}  // namespace

TEST(ConnectLimiter, BurstThenRefillPerAddress) {
  ConnectLimiter l(10, 3);  // 10 per second, bursts of 3
  auto a = v4("10.0.0.1"), b = v4("10.0.0.2");
  EXPECT_TRUE(l.admit(sa(a), 0));
  EXPECT_TRUE(l.admit(sa(a), 0));
  EXPECT_TRUE(l.admit(sa(a), 0));
  EXPECT_FALSE(l.admit(sa(a), 0));
  EXPECT_TRUE(l.admit(sa(b), 0)) << "another address has its own bucket";
  EXPECT_FALSE(l.admit(sa(a), 50));  // half a token
  EXPECT_TRUE(l.admit(sa(a), 100));  // one token after 100 ms
  EXPECT_FALSE(l.admit(sa(a), 100));
  EXPECT_TRUE(l.admit(sa(a), 10000));  // capped at the burst, not 990 tokens
  EXPECT_TRUE(l.admit(sa(a), 10000));
  EXPECT_TRUE(l.admit(sa(a), 10000));
  EXPECT_FALSE(l.admit(sa(a), 10000));
}

TEST(ConnectLimiter, PruneForgetsRefilledAddresses) {
  ConnectLimiter l(10, 3);
  auto a = v4("10.0.0.1"), b = v4("10.0.0.2");
  l.admit(sa(a), 0);
  l.admit(sa(b), 250);
  l.prune(300);  // a is full again after 300 ms; b not yet
  EXPECT_EQ(l.tracked(), 1u);
  l.prune(1000);
  EXPECT_EQ(l.tracked(), 0u);
}
