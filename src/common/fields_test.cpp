#include "common/fields.hpp"

#include <gtest/gtest.h>

using namespace sluice::common;

TEST(Fields, RoundTripIncludingEmptyAndColons) {
  std::string v;
  using sv = std::string_view;
  for (sv f : {sv("a"), sv(""), sv("x:y:z"), sv("\0b", 2)})
    put_field(v, f);
  std::string_view in = v, f;
  ASSERT_TRUE(take_field(in, f));
  EXPECT_EQ(f, "a");
  ASSERT_TRUE(take_field(in, f));
  EXPECT_EQ(f, "");
  ASSERT_TRUE(take_field(in, f));
  EXPECT_EQ(f, "x:y:z");
  ASSERT_TRUE(take_field(in, f));
  EXPECT_EQ(f, std::string_view("\0b", 2));
  EXPECT_TRUE(in.empty());
  EXPECT_FALSE(take_field(in, f));
}

// A length that does not fit, however large, is refused; the input is left as it was.
// (The cluster's will records had a copy that compared colon + 1 + n, which
// wraps for a length near 2^64, so such a field was taken, misread.)
TEST(Fields, LengthsThatDoNotFitAreRefused) {
  for (const char* bad : {"5:abc", "18446744073709551615:x", "18446744073709551614:xy", "99999999999999999999999:x",
                               "-1:x", "+1:x", " 1:x", "1x:x", ":x", "abc"}) {
    std::string_view in = bad, f;
    const std::string_view was = bad;
    EXPECT_FALSE(take_field(in, f)) << bad;
    EXPECT_EQ(in, was);
  }
}
