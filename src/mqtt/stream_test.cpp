// Streams: many packets in one buffer, byte-by-byte feeding, NeedMore rules,
// and reuse of one Packet across parses.
#include <gtest/gtest.h>

#include <vector>

#include "mqtt/codec.hpp"
#include "mqtt/test_util.hpp"

namespace sluice::mqtt {
namespace {

using test::hex;
using namespace std::string_literals;

// A client->server session: CONNECT then a bit of everything.
std::string session_bytes(Version v) {
  std::string s;
  Connect c;
  c.version = v;
  c.client_id = "stream";
  c.username = "u";
  c.password = "p";
  if (v == Version::V5) c.props.topic_alias_maximum = 4;
  encode(c, s);
  std::string big(300, 'z');
  for (int i = 0; i < 3; ++i) {
    Publish m;
    m.topic = "s/t";
    m.payload = i == 2 ? std::string_view(big) : std::string_view("x");
    m.qos = uint8_t(i);
    m.packet_id = uint16_t(i ? i : 0);
    if (v == Version::V5) m.props.user_properties.push_back({"i", "j"});
    encode(m, v, s);
  }
  encode(Ack{PacketType::Puback, 5}, v, s);
  encode(Ack{PacketType::Pubrel, 6}, v, s);
  Subscribe sub;
  sub.packet_id = 7;
  sub.subscriptions = {{"a/#", {1}}, {"b/+", {0}}};
  encode(sub, v, s);
  Unsubscribe un;
  un.packet_id = 8;
  un.filters = {"a/#"};
  encode(un, v, s);
  encode_pingreq(s);
  encode(Disconnect{}, v, s);
  return s;
}

// Parses everything in `in` (which must end on a packet boundary) and
// re-encodes each packet, so results can be compared as bytes.
std::vector<std::string> parse_all(Parser& p, std::string_view in) {
  std::vector<std::string> out;
  Packet pkt;
  for (;;) {
    ParseResult r = p.parse(in, pkt);
    if (r.status != ParseStatus::Ok) {
      EXPECT_EQ(r.status, ParseStatus::NeedMore) << (r.detail ? r.detail : "");
      break;
    }
    std::string e;
    encode(pkt, p.version(), e);
    out.push_back(e);
    in.remove_prefix(r.consumed);
  }
  EXPECT_TRUE(in.empty());
  return out;
}

class Stream : public ::testing::TestWithParam<Version> {};
INSTANTIATE_TEST_SUITE_P(AllVersions, Stream, ::testing::Values(Version::V3_1, Version::V3_1_1, Version::V5));

TEST_P(Stream, ManyPacketsInOneBuffer) {
  const std::string bytes = session_bytes(GetParam());
  Parser p;
  auto pkts = parse_all(p, bytes);
  ASSERT_EQ(pkts.size(), 10u);
  // Re-encoding reproduces the stream exactly (our encoder wrote it).
  std::string joined;
  for (const auto& s : pkts) joined += s;
  EXPECT_EQ(hex(joined), hex(bytes));
}

TEST_P(Stream, ByteByByteGivesIdenticalResults) {
  const std::string bytes = session_bytes(GetParam());
  Parser whole;
  const auto expected = parse_all(whole, bytes);

  Parser p;
  Packet pkt;
  std::vector<std::string> got;
  size_t start = 0;
  for (size_t end = 1; end <= bytes.size(); ++end) {
    // The parser sees the unconsumed bytes so far, as a connection would.
    for (;;) {
      std::string_view avail(bytes.data() + start, end - start);
      ParseResult r = p.parse(avail, pkt);
      ASSERT_NE(r.status, ParseStatus::Error) << r.detail;
      if (r.status == ParseStatus::NeedMore) break;
      std::string e;
      encode(pkt, p.version(), e);
      got.push_back(e);
      start += r.consumed;
    }
  }
  EXPECT_EQ(start, bytes.size());
  EXPECT_EQ(got, expected);
}

TEST_P(Stream, ClientSideByteByByte) {
  const Version v = GetParam();
  std::string bytes;
  Connack ca;
  ca.session_present = v != Version::V3_1;
  encode(ca, v, bytes);
  Publish m;
  m.topic = "down/link";
  m.payload = std::string_view("\x00\x01\x02", 3);
  m.qos = 2;
  m.packet_id = 1000;
  if (v == Version::V5) m.props.subscription_identifiers = {3, 4};
  encode(m, v, bytes);
  SubAck sa;
  sa.packet_id = 2;
  sa.reasons = {Reason::GrantedQos2, Reason::UnspecifiedError};
  encode(sa, v, bytes);
  SubAck ua;
  ua.type = PacketType::Unsuback;
  ua.packet_id = 3;
  ua.reasons = {Reason::Success};
  encode(ua, v, bytes);
  for (PacketType t : {PacketType::Puback, PacketType::Pubrec, PacketType::Pubrel, PacketType::Pubcomp})
    encode(Ack{t, 9}, v, bytes);
  encode_pingresp(bytes);
  if (v == Version::V5) encode(Disconnect{Reason::ServerShuttingDown}, v, bytes);

  Parser whole = test::client(v);
  const auto expected = parse_all(whole, bytes);
  EXPECT_EQ(expected.size(), v == Version::V5 ? 10u : 9u);
  std::string joined;
  for (const auto& e : expected) joined += e;
  EXPECT_EQ(hex(joined), hex(bytes));

  Parser p = test::client(v);
  Packet pkt;
  std::vector<std::string> got;
  size_t start = 0;
  for (size_t end = 1; end <= bytes.size(); ++end) {
    for (;;) {
      ParseResult r = p.parse(std::string_view(bytes.data() + start, end - start), pkt);
      ASSERT_NE(r.status, ParseStatus::Error) << r.detail;
      if (r.status == ParseStatus::NeedMore) break;
      std::string e;
      encode(pkt, v, e);
      got.push_back(e);
      start += r.consumed;
    }
  }
  EXPECT_EQ(got, expected);
}

TEST(StreamRules, NeedMoreDoesNotLookPastTheFixedHeader) {
  // Header promises 100 bytes; the 10 that arrived are garbage. Judging them
  // would be wrong: the packet is incomplete, so NeedMore.
  Parser p = test::server(Version::V3_1_1);
  Packet pkt;
  std::string bytes = "\x30\x64"s + std::string(10, '\xff');
  EXPECT_EQ(p.parse(bytes, pkt).status, ParseStatus::NeedMore);
  EXPECT_EQ(p.parse(std::string_view(), pkt).status, ParseStatus::NeedMore);
  EXPECT_EQ(p.parse("\x30"s, pkt).status, ParseStatus::NeedMore);
  EXPECT_EQ(p.parse("\x30\x80\x80"s, pkt).status, ParseStatus::NeedMore);
}

TEST(StreamRules, ReusedPacketIsFullyReset) {
  Parser p = test::server(Version::V5);
  Packet pkt;
  std::string a, b;
  Publish rich;
  rich.topic = "a";
  rich.qos = 1;
  rich.packet_id = 3;
  rich.props.user_properties.push_back({"k", "v"});
  rich.props.message_expiry_interval = 5;
  encode(rich, Version::V5, a);
  Publish plain;
  plain.topic = "b";
  encode(plain, Version::V5, b);
  ASSERT_EQ(p.parse(a, pkt).status, ParseStatus::Ok);
  ASSERT_EQ(p.parse(b, pkt).status, ParseStatus::Ok);
  const auto& d = std::get<Publish>(pkt);
  EXPECT_EQ(d.topic, "b");
  EXPECT_EQ(d.qos, 0);
  EXPECT_EQ(d.packet_id, 0);
  EXPECT_TRUE(d.props.empty());

  Subscribe s1;
  s1.packet_id = 1;
  s1.subscriptions = {{"x", {}}, {"y", {}}};
  Subscribe s2;
  s2.packet_id = 2;
  s2.subscriptions = {{"z", {}}};
  a.clear();
  b.clear();
  encode(s1, Version::V5, a);
  encode(s2, Version::V5, b);
  ASSERT_EQ(p.parse(a, pkt).status, ParseStatus::Ok);
  ASSERT_EQ(p.parse(b, pkt).status, ParseStatus::Ok);
  ASSERT_EQ(std::get<Subscribe>(pkt).subscriptions.size(), 1u);
  EXPECT_EQ(std::get<Subscribe>(pkt).subscriptions[0].filter, "z");
}

// One Packet shared by the connections of a loop (net::Worker::take_packet): a v3
// PUBLISH decoded after a v5 one with properties has none (the decoder skips the
// reset of properties for v3 unless a v5 decode may have set them; issue 20).
TEST(StreamRules, PacketReusedAcrossVersionsDropsV5Properties) {
  Parser v5 = test::server(Version::V5);
  Parser v3 = test::server(Version::V3_1_1);
  Packet pkt;
  std::string a, b, c;
  Publish rich;
  rich.topic = "a";
  rich.props.user_properties.push_back({"k", "v"});
  rich.props.topic_alias = 2;
  encode(rich, Version::V5, a);
  Publish plain;
  plain.topic = "b";
  encode(plain, Version::V3_1_1, b);
  encode(plain, Version::V3_1_1, c);
  ASSERT_EQ(v5.parse(a, pkt).status, ParseStatus::Ok);
  ASSERT_FALSE(std::get<Publish>(pkt).props.empty());
  ASSERT_EQ(v3.parse(b, pkt).status, ParseStatus::Ok);
  EXPECT_EQ(std::get<Publish>(pkt).topic, "b");
  EXPECT_TRUE(std::get<Publish>(pkt).props.empty());
  ASSERT_EQ(v3.parse(c, pkt).status, ParseStatus::Ok);  // and again, the fast way
  EXPECT_TRUE(std::get<Publish>(pkt).props.empty());
}

TEST(StreamRules, ConnectSetsVersionForLaterPackets) {
  std::string s;
  Connect c;
  c.version = Version::V5;
  encode(c, s);
  Publish m;
  m.topic = "t";
  m.props.content_type = "ct";
  encode(m, Version::V5, s);
  Parser p;
  auto pkts = parse_all(p, s);
  EXPECT_EQ(pkts.size(), 2u);
  EXPECT_EQ(p.version(), Version::V5);
}

}  // namespace
}  // namespace sluice::mqtt
