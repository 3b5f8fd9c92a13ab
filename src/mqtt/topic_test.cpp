// Topic rules (spec 4.7): names, filters, shared subscriptions, matching, UTF-8.
#include "mqtt/topic.hpp"

#include <gtest/gtest.h>

#include <string>

#include "mqtt/packet.hpp"
#include "mqtt/reason.hpp"

namespace sluice::mqtt {
namespace {

using namespace std::string_literals;

TEST(Utf8, Table) {
  struct {
    std::string s;
    bool ok;
  } cases[] = {
      {"", true},
      {"plain ascii, long enough for the 8-byte path", true},
      {"caf\xc3\xa9", true},                         // U+00E9
      {"\xe2\x82\xac", true},                        // U+20AC
      {"\xf0\x9f\x98\x80", true},                    // U+1F600
      {"\xf4\x8f\xbf\xbf", true},                    // U+10FFFF
      {"\xef\xbf\xbf", true},                        // U+FFFF: non-character, allowed
      {"a\x00" "b"s, false},                         // U+0000
      {"12345678\x00"s, false},                      // U+0000 after a fast word
      {"1234567\x00"s, false},                       // U+0000 inside a fast word
      {"\xc0\x80", false},                           // overlong U+0000
      {"\xc1\xbf", false},                           // overlong
      {"\xe0\x80\xaf", false},                       // overlong 3-byte
      {"\xf0\x80\x80\xaf", false},                   // overlong 4-byte
      {"\xed\xa0\x80", false},                       // U+D800 surrogate
      {"\xed\xbf\xbf", false},                       // U+DFFF surrogate
      {"\xf4\x90\x80\x80", false},                   // above U+10FFFF
      {"\xf5\x80\x80\x80", false},
      {"\x80", false},                               // lone continuation
      {"\xc3", false},                               // truncated
      {"abcdefgh\xe2\x82", false},                   // truncated after a fast word
      {"\xe2\x28\xa1", false},                       // bad continuation
      {"\xff", false},
  };
  for (const auto& c : cases) EXPECT_EQ(valid_utf8(c.s), c.ok) << testing::PrintToString(c.s);
}

TEST(Utf8, StrictRejectsControls) {
  EXPECT_TRUE(valid_utf8("a\tb"));
  EXPECT_FALSE(valid_utf8("a\tb", true));
  EXPECT_FALSE(valid_utf8("\x7f", true));
  EXPECT_FALSE(valid_utf8("\xc2\x85", true));  // U+0085
  EXPECT_TRUE(valid_utf8("\xc2\xa0", true));   // U+00A0
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 and more text", true));
}

TEST(TopicName, Table) {
  EXPECT_TRUE(valid_topic_name("a"));
  EXPECT_TRUE(valid_topic_name("/"));
  EXPECT_TRUE(valid_topic_name("a//b"));
  EXPECT_TRUE(valid_topic_name("$SYS/broker"));
  EXPECT_TRUE(valid_topic_name("sensors/caf\xc3\xa9/temperature/x"));
  EXPECT_FALSE(valid_topic_name(""));
  EXPECT_FALSE(valid_topic_name("a/+"));
  EXPECT_FALSE(valid_topic_name("a/#"));
  EXPECT_FALSE(valid_topic_name("a long topic name with a + wildcard"));
  EXPECT_FALSE(valid_topic_name("a long topic name with a # wildcard"));
  EXPECT_FALSE(valid_topic_name("a\x00" "b"s));
  EXPECT_FALSE(valid_topic_name("\xc0\x80"));
  EXPECT_FALSE(valid_topic_name(std::string(65536, 'a')));
  EXPECT_TRUE(valid_topic_name(std::string(65535, 'a')));
}

TEST(TopicFilter, Table) {
  for (const char* f : {"#", "+", "a", "a/b", "a/+", "+/b", "a/#", "+/+", "/+", "+/", "a/+/c/#", "/", "//",
                        "$SYS/#", "$share/g/a/#", "$share/g/#", "$share/g/+", "$share/g//"}) {
    EXPECT_TRUE(valid_topic_filter(f)) << f;
  }
  for (const char* f : {"", "a#", "a/#/b", "#/a", "a+", "a/+b", "+a", "a/b#", "##", "++",
                        "$share/", "$share/g", "$share/g/", "$share//a", "$share/g+/a", "$share/g#/a",
                        "$share/g/a/#/b"}) {
    EXPECT_FALSE(valid_topic_filter(f)) << f;
  }
  EXPECT_FALSE(valid_topic_filter("a/\xff"));
  EXPECT_FALSE(valid_topic_filter("a\x00"s));
}

TEST(Shared, Parse) {
  std::string_view g, inner;
  ASSERT_TRUE(parse_shared("$share/grp/a/b/#", g, inner));
  EXPECT_EQ(g, "grp");
  EXPECT_EQ(inner, "a/b/#");
  EXPECT_FALSE(parse_shared("a/b", g, inner));
  EXPECT_FALSE(parse_shared("$share/grp", g, inner));
  EXPECT_FALSE(parse_shared("$SHARE/g/a", g, inner));
  ASSERT_TRUE(parse_shared("$share//a", g, inner));  // parsed; valid_topic_filter rejects it
  EXPECT_EQ(g, "");
}

TEST(Matching, Table) {
  struct {
    const char* filter;
    const char* topic;
    bool match;
  } cases[] = {
      {"a/b", "a/b", true},
      {"a/b", "a/c", false},
      {"a/b", "a/b/c", false},
      {"a/b/c", "a/b", false},
      {"#", "a", true},
      {"#", "a/b/c", true},
      {"#", "/", true},
      {"a/#", "a", true},  // parent level too
      {"a/#", "a/b", true},
      {"a/#", "a/b/c", true},
      {"a/#", "ab", false},
      {"a/b/#", "a", false},
      {"+", "a", true},
      {"+", "a/b", false},
      {"+", "/a", false},
      {"+/+", "/a", true},
      {"/+", "/a", true},
      {"+", "", true},
      {"a/+", "a/", true},
      {"a/+", "a", false},
      {"a/+/c", "a/b/c", true},
      {"a/+/c", "a/b/d", false},
      {"+/+/#", "a/b", true},
      {"a//b", "a//b", true},
      {"a/+/b", "a//b", true},
      // '$' topics: no first-level wildcard match (4.7.2).
      {"#", "$SYS/x", false},
      {"+/x", "$SYS/x", false},
      {"+", "$SYS", false},
      {"$SYS/#", "$SYS/x", true},
      {"$SYS/+", "$SYS/x", true},
      {"a/#", "a/$x", true},
  };
  for (const auto& c : cases) EXPECT_EQ(topic_matches(c.filter, c.topic), c.match) << c.filter << " vs " << c.topic;
}

TEST(Names, ReasonsAndPacketTypes) {
  EXPECT_STREQ(reason_name(Reason::MalformedPacket), "Malformed Packet");
  EXPECT_STREQ(reason_name(Reason::PacketTooLarge), "Packet too large");
  EXPECT_STREQ(reason_name(Reason(0x55)), "Unknown reason code");
  EXPECT_STREQ(packet_type_name(PacketType::Pubrel), "PUBREL");
  EXPECT_EQ(packet_type(Packet(Pingreq{})), PacketType::Pingreq);
  EXPECT_EQ(packet_type(Packet(SubAck{PacketType::Unsuback})), PacketType::Unsuback);
  EXPECT_EQ(to_v3_connack(Reason::Success), ConnectReturn3::Accepted);
  EXPECT_EQ(to_v3_connack(Reason::UnsupportedProtocolVersion), ConnectReturn3::UnacceptableProtocolVersion);
  EXPECT_EQ(to_v3_connack(Reason::ClientIdentifierNotValid), ConnectReturn3::IdentifierRejected);
  EXPECT_EQ(to_v3_connack(Reason::BadUserNameOrPassword), ConnectReturn3::BadUserNameOrPassword);
  EXPECT_EQ(to_v3_connack(Reason::NotAuthorized), ConnectReturn3::NotAuthorized);
  EXPECT_EQ(to_v3_connack(Reason::Banned), ConnectReturn3::NotAuthorized);
  EXPECT_EQ(to_v3_connack(Reason::ServerBusy), ConnectReturn3::ServerUnavailable);
  Properties p;
  EXPECT_TRUE(p.empty());
  p.shared_subscription_available = 0;
  EXPECT_FALSE(p.empty());
}

}  // namespace
}  // namespace sluice::mqtt
