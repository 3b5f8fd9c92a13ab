#include "cluster/shared_groups.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using namespace sluice::cluster;

namespace {
std::vector<const std::string*> ptrs(const std::vector<std::string>& v) {
  std::vector<const std::string*> out;
  for (const auto& s : v) out.push_back(&s);
  return out;
}
}  // namespace

// What the replay of a dead holder's share relies on (docs/cluster.md, "A dead
// holder's share"): a node that wins a key among some nodes wins it among any
// subset that keeps it, whatever the order the nodes come in.
TEST(SharedGroupsWinner, AWinnerStaysTheWinnerWhenOtherNodesLeave) {
  const std::vector<std::string> all = {"n1", "n2", "n3", "n4", "node-5"};
  for (uint64_t k = 1; k < 5000; ++k) {
    const uint64_t key = SharedGroups::key_of(k * 0x9E3779B97F4A7C15ull, "");
    const std::string w = SharedGroups::winner(ptrs(all), key);
    for (size_t drop = 0; drop < all.size(); ++drop) {
      if (all[drop] == w) continue;
      std::vector<std::string> fewer;
      for (size_t i = 0; i < all.size(); ++i)
        if (i != drop) fewer.push_back(all[i]);
      ASSERT_EQ(SharedGroups::winner(ptrs(fewer), key), w) << "key " << key << " without " << all[drop];
    }
    const std::vector<std::string> reversed(all.rbegin(), all.rend());
    ASSERT_EQ(SharedGroups::winner(ptrs(reversed), key), w);
  }
}

// Route keys spread over the nodes: each of three gets about a third.
TEST(SharedGroupsWinner, SpreadsKeysOverTheNodes) {
  const std::vector<std::string> nodes = {"n1", "n2", "n3"};
  std::map<std::string, int> got;
  for (uint64_t k = 1; k <= 3000; ++k) ++got[SharedGroups::winner(ptrs(nodes), SharedGroups::key_of(k, ""))];
  for (const auto& n : nodes) {
    EXPECT_GT(got[n], 800) << n;
    EXPECT_LT(got[n], 1200) << n;
  }
  // Without a route key, by the topic.
  EXPECT_EQ(SharedGroups::key_of(0, "a/b"), SharedGroups::key_of(0, "a/b"));
  EXPECT_NE(SharedGroups::key_of(0, "a/b"), SharedGroups::key_of(0, "a/c"));
}
