// The subscription trie's children switch from a short vector to a hash map
// past LevelChildren::kFlatMax siblings; matching, replacing and pruning must
// not notice. And the split of a topic into levels keeps empty levels.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "broker/level_children.hpp"
#include "broker/subscription_trie.hpp"
#include "broker/topic_levels.hpp"

using namespace sluice::broker;

namespace {

std::vector<Session*> matches(const SubscriptionTrie& t, std::string_view topic) {
  std::vector<Session*> out;
  t.match(topic, [&](Session* s, const SubOptions&) { out.push_back(s); });
  std::sort(out.begin(), out.end());
  return out;
}

// The trie only stores and compares the pointers.
Session* fake(uintptr_t k) { return reinterpret_cast<Session*>(k * 64); }

}  // namespace

TEST(TopicLevels, SplitKeepsEmptyLevels) {
  std::vector<std::string_view> v;
  split_levels("a/b/c", v);
  EXPECT_EQ(v, (std::vector<std::string_view>{"a", "b", "c"}));
  split_levels("", v);
  EXPECT_EQ(v, (std::vector<std::string_view>{""}));
  split_levels("/a//", v);
  EXPECT_EQ(v, (std::vector<std::string_view>{"", "a", "", ""}));
}

TEST(LevelChildren, FlatThenHashedKeepsEveryChild) {
  struct N {
    int id = 0;
  };
  LevelChildren<N> c;
  const size_t n = LevelChildren<N>::kFlatMax * 4;
  for (size_t i = 0; i < n; ++i) c.get_or_add("dev" + std::to_string(i)).id = int(i);
  EXPECT_EQ(c.size(), n);
  for (size_t i = 0; i < n; ++i) {
    N* child = c.find("dev" + std::to_string(i));
    ASSERT_NE(child, nullptr) << i;
    EXPECT_EQ(child->id, int(i));
  }
  EXPECT_EQ(c.find("dev"), nullptr);
  EXPECT_EQ(&c.get_or_add("dev3"), c.find("dev3"));  // no duplicate
  for (size_t i = 0; i < n; ++i) c.erase("dev" + std::to_string(i));
  EXPECT_TRUE(c.empty());
}

TEST(SubscriptionTrie, ManySiblingsMatchAndPrune) {
  SubscriptionTrie t;
  std::unique_lock lock(t.mutex());
  const int n = 50;  // well past the flat limit at the device level
  for (int i = 0; i < n; ++i)
    EXPECT_TRUE(t.subscribe(fake(uintptr_t(i + 1)), "site/dev" + std::to_string(i) + "/temp", {}));
  EXPECT_TRUE(t.subscribe(fake(100), "site/+/temp", {}));
  EXPECT_TRUE(t.subscribe(fake(101), "site/#", {}));
  EXPECT_FALSE(t.subscribe(fake(101), "site/#", SubOptions{1}));  // replaced, not added
  EXPECT_EQ(t.size(), size_t(n + 2));

  for (int i = 0; i < n; i += 7)
    EXPECT_EQ(matches(t, "site/dev" + std::to_string(i) + "/temp"),
              (std::vector<Session*>{fake(uintptr_t(i + 1)), fake(100), fake(101)}));
  EXPECT_EQ(matches(t, "site/devX/temp"), (std::vector<Session*>{fake(100), fake(101)}));
  EXPECT_EQ(matches(t, "site"), (std::vector<Session*>{fake(101)}));  // '#' matches the parent

  for (int i = 0; i < n; ++i) EXPECT_TRUE(t.unsubscribe(fake(uintptr_t(i + 1)), "site/dev" + std::to_string(i) + "/temp"));
  EXPECT_FALSE(t.unsubscribe(fake(1), "site/dev0/temp"));
  EXPECT_EQ(matches(t, "site/dev3/temp"), (std::vector<Session*>{fake(100), fake(101)}));
  EXPECT_TRUE(t.unsubscribe(fake(100), "site/+/temp"));
  EXPECT_TRUE(t.unsubscribe(fake(101), "site/#"));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(matches(t, "site/dev3/temp").empty());
}
