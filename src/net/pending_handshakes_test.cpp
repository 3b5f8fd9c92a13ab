#include "net/pending_handshakes.hpp"

#include <gtest/gtest.h>

using sluice::net::PendingHandshakes;

TEST(PendingHandshakes, CapPerSourceAndRoomAgainAfterEnd) {
  PendingHandshakes p(2);
  const std::string a("\x0a\x00\x00\x01", 4), b("\x0a\x00\x00\x02", 4);
  EXPECT_TRUE(p.begin(a));
  EXPECT_TRUE(p.begin(a));
  EXPECT_FALSE(p.begin(a)) << "a third pending connection from one address";
  EXPECT_TRUE(p.begin(b)) << "another address has its own count";
  p.end(a);
  EXPECT_TRUE(p.begin(a)) << "a completed handshake makes room";
  EXPECT_FALSE(p.begin(a));
}

TEST(PendingHandshakes, ForgetsAddressesWithNothingPending) {
  PendingHandshakes p(1);
  const std::string a("\x0a\x00\x00\x01", 4);
  EXPECT_TRUE(p.begin(a));
  EXPECT_FALSE(p.begin(a));
  EXPECT_EQ(p.sources(), 1u);
  p.end(a);
  EXPECT_EQ(p.sources(), 0u) << "no entry left for an address with nothing pending";
  p.end(a);  // an unmatched end is harmless
  EXPECT_EQ(p.sources(), 0u);
}

TEST(PendingHandshakes, ZeroMeansNoCap) {
  PendingHandshakes p(0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(p.begin("x"));
  EXPECT_EQ(p.sources(), 0u);
}
