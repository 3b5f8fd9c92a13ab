#include "api/http_connections.hpp"

#include <gtest/gtest.h>

using sluice::api::HttpConnectionBudget;
using V = HttpConnectionBudget::Verdict;

TEST(HttpConnectionBudget, PerSourceCapLeavesRoomForOthers) {
  HttpConnectionBudget b(10, 2);
  EXPECT_EQ(b.admit("a"), V::Admit);
  EXPECT_EQ(b.admit("a"), V::Admit);
  EXPECT_EQ(b.admit("a"), V::SourceFull);
  EXPECT_EQ(b.admit("b"), V::Admit) << "another address has its own share";
  EXPECT_EQ(b.open(), 3u);
  b.release("a");
  EXPECT_EQ(b.admit("a"), V::Admit) << "a closed connection makes room";
}

TEST(HttpConnectionBudget, TotalCapAndMakingRoom) {
  HttpConnectionBudget b(2, 0);
  EXPECT_EQ(b.admit("a"), V::Admit);
  EXPECT_EQ(b.admit("b"), V::Admit);
  EXPECT_EQ(b.admit("c"), V::Full);
  EXPECT_TRUE(b.admit_over_total("c")) << "room made by closing another";
  EXPECT_EQ(b.open(), 3u);
  b.release("a");  // the one closed to make room is gone
  EXPECT_EQ(b.admit("d"), V::Full) << "still 2 open: b and c";
  b.release("b");
  EXPECT_EQ(b.admit("d"), V::Admit);
}

TEST(HttpConnectionBudget, OverTotalStillHonoursPerSource) {
  HttpConnectionBudget b(1, 1);
  EXPECT_EQ(b.admit("a"), V::Admit);
  EXPECT_FALSE(b.admit_over_total("a"));
  EXPECT_TRUE(b.admit_over_total("b"));
  EXPECT_EQ(b.sources(), 2u);
  b.release("a");
  b.release("b");
  b.release("b");  // unmatched: harmless
  EXPECT_EQ(b.open(), 0u);
  EXPECT_EQ(b.sources(), 0u);
}

TEST(HttpConnectionBudget, ZeroMeansNoLimit) {
  HttpConnectionBudget b(0, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(b.admit("a"), V::Admit);
  EXPECT_EQ(b.open(), 1000u);
}
