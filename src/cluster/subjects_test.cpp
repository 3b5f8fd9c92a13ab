#include "cluster/subjects.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace sluice::cluster;

TEST(Subjects, LevelsBecomeTokens) {
  EXPECT_EQ(topic_subject("sl0", "mqtt-local-a", "a/b/c"), "sl0.mqtt-local-a.a.b.c");
  // '.', '*', '>', spaces, '_', '$' and non-ASCII are escaped; empty levels are "_".
  EXPECT_EQ(topic_subject("sl0", "n", "a.b/*/>/x y/_/$SYS"), "sl0.n.a_2Eb._2A._3E.x_20y._5F._24SYS");
  EXPECT_EQ(topic_subject("sl0", "n", "/a//b/"), "sl0.n._.a._.b._");
  EXPECT_EQ(topic_subject("sl0", "n", ""), "sl0.n._");
  EXPECT_EQ(topic_subject("sl0", "n", "é"), "sl0.n._C3_A9");
}

TEST(Subjects, MappingIsReversible) {
  std::mt19937 rng(7);
  const std::string alphabet = std::string("ab/.*>_ $#+\t-") + "\xc3\xa9" + std::string(1, '\0');
  for (int i = 0; i < 2000; ++i) {
    std::string t;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) t += alphabet[rng() % alphabet.size()];
    const std::string s = topic_subject("sl1", "ns", t);
    auto back = subject_topic(s, "sl1", "ns");
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, t) << s;
    // No token is empty, and none holds a character NATS gives a meaning to.
    EXPECT_EQ(s.find(".."), std::string::npos);
    EXPECT_EQ(s.find_first_of("*> \t"), std::string::npos);
  }
  EXPECT_FALSE(unescape_token("_4").has_value());
  EXPECT_FALSE(unescape_token("_41").has_value());  // 'A' is never escaped
  EXPECT_FALSE(unescape_token("").has_value());
  EXPECT_FALSE(subject_topic("sl1.other.a", "sl1", "ns").has_value());
}

TEST(Subjects, FiltersUseNatsWildcards) {
  EXPECT_EQ(filter_subjects("sl0", "n", "a/+/c"), (std::vector<std::string>{"sl0.n.a.*.c"}));
  // "a/#" matches "a" too.
  EXPECT_EQ(filter_subjects("sl0", "n", "a/#"), (std::vector<std::string>{"sl0.n.a.>", "sl0.n.a"}));
  EXPECT_EQ(filter_subjects("sl0", "n", "#"), (std::vector<std::string>{"sl0.n.>"}));
  EXPECT_EQ(filter_subjects("sl0", "n", "+"), (std::vector<std::string>{"sl0.n.*"}));
  // A literal '+' inside a level is not a wildcard.
  EXPECT_EQ(filter_subjects("sl0", "n", "a+b/x"), (std::vector<std::string>{"sl0.n.a_2Bb.x"}));
  // Empty levels match empty levels.
  EXPECT_EQ(filter_subjects("sl0", "n", "a//+"), (std::vector<std::string>{"sl0.n.a._.*"}));
}

TEST(Subjects, LongTopicsShareOneSubject) {
  const std::string topic = "long/" + std::string(4096, 'x');
  EXPECT_EQ(topic_subject("sl0", "n", topic), "sl0.n.~");
  EXPECT_TRUE(may_match_long_topics("long/+"));
  EXPECT_TRUE(may_match_long_topics("#"));
  EXPECT_FALSE(may_match_long_topics("short/exact"));
  EXPECT_TRUE(may_match_long_topics(topic));
  EXPECT_EQ(long_subject("sl0", "n"), "sl0.n.~");
  // '~' cannot come out of escape_token, so no topic's own subject is the long one.
  EXPECT_NE(topic_subject("sl0", "n", "~"), "sl0.n.~");
}
