// `*` and `?` matching.
#include <gtest/gtest.h>

#include <random>

#include "../../../tests/iam/reference_evaluator.hpp"
#include "iam/policy/policy.hpp"

namespace sluice::iam::policy {
namespace {

struct W {
  const char* p;
  const char* s;
  bool ic;
  bool want;
};

TEST(Wildcard, Table) {
  const W cases[] = {
      {"", "", false, true},
      {"", "a", false, false},
      {"*", "", false, true},
      {"*", "anything/at:all", false, true},
      {"?", "", false, false},
      {"?", "a", false, true},
      {"?", "ab", false, false},
      {"a?c", "abc", false, true},
      {"a?c", "ac", false, false},
      {"a*c", "ac", false, true},
      {"a*c", "abbbc", false, true},
      {"a*c", "abbbcd", false, false},
      {"*c", "abcabc", false, true},
      {"a*b*c", "axxbyyc", false, true},
      {"a*b*c", "axxcyyb", false, false},
      {"**a**", "bab", false, true},
      {"mq:List*", "mq:ListMqttInstance", false, true},
      {"mq:List*", "MQ:listMqttInstance", false, false},
      {"mq:List*", "MQ:listMqttInstance", true, true},
      {"MQ:PUB", "mq:pub", true, true},
      {"acs:mq:*:*:topic/x/Sensors/*", "acs:mq:local:1:topic/x/Sensors/a/b", false, true},
      {"acs:mq:*:*:topic/x/Sensors/*", "acs:mq:local:1:topic/x/Sensors", false, false},
      {"acs:mq:*:*:topic/x/Sensors", "acs:mq:local:1:topic/x/sensors", false, false},
      {"topic/+/#", "topic/+/#", false, true},   // MQTT wildcards are literal here
      {"topic/+/#", "topic/a/b", false, false},
      {"caf?", "caf\xC3\xA9", false, true},      // ? is one character, not one byte
      {"caf??", "caf\xC3\xA9", false, false},
      {"*?", "\xC3\xA9", false, true},
      {"*\xC3\xA9", "x\xC3\xA9", false, true},
      {"a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},  // no blow-up
  };
  for (const W& c : cases) EXPECT_EQ(wildcard_match(c.p, c.s, c.ic), c.want) << c.p << " vs " << c.s;
}

TEST(Wildcard, AgreesWithTheReferenceMatcherOnRandomInputs) {
  // Small alphabets so that random patterns often match; multi-byte characters
  // and both cases included.
  const std::vector<std::string> pchars = {"a", "b", "A", ":", "/", "*", "*", "?", "\xC3\xA9"};
  const std::vector<std::string> schars = {"a", "b", "A", "B", ":", "/", "\xC3\xA9", "\xE2\x82\xAC"};
  std::mt19937 rng(42);
  int matches = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string p, s;
    for (size_t n = rng() % 7; n > 0; --n) p += pchars[rng() % pchars.size()];
    for (size_t n = rng() % 9; n > 0; --n) s += schars[rng() % schars.size()];
    bool ic = rng() % 2;
    bool want = reference::ref_match(p, s, ic);
    matches += want;
    ASSERT_EQ(wildcard_match(p, s, ic), want) << "pattern \"" << p << "\" text \"" << s << "\" ic=" << ic;
  }
  EXPECT_GT(matches, 5000);
}

}  // namespace
}  // namespace sluice::iam::policy
