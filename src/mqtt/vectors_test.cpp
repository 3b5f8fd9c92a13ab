// Byte-exact packets from the spec's layouts, both ways: the encoder writes
// exactly these bytes and the decoder reads them back.
#include <gtest/gtest.h>

#include "mqtt/codec.hpp"
#include "mqtt/test_util.hpp"

namespace sluice::mqtt {
namespace {

using test::client;
using test::hex;
using test::parse_ok;
using test::server;
using namespace std::string_literals;

TEST(Vectors, Connect311) {
  const std::string want = "\x10\x0f\x00\x04MQTT\x04\x02\x00\x3c\x00\x03" "abc"s;
  Connect c;
  c.version = Version::V3_1_1;
  c.keep_alive = 60;
  c.client_id = "abc";
  std::string out;
  encode(c, out);
  EXPECT_EQ(hex(out), hex(want));
  Parser p;
  auto pkt = parse_ok(p, want);
  EXPECT_EQ(std::get<Connect>(pkt).client_id, "abc");
  EXPECT_EQ(p.version(), Version::V3_1_1);
}

TEST(Vectors, Connect31) {
  const std::string want = "\x10\x11\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x03" "abc"s;
  Connect c;
  c.version = Version::V3_1;
  c.keep_alive = 60;
  c.client_id = "abc";
  std::string out;
  encode(c, out);
  EXPECT_EQ(hex(out), hex(want));
  Parser p;
  parse_ok(p, want);
  EXPECT_EQ(p.version(), Version::V3_1);
}

TEST(Vectors, Connect5WithProperties) {
  // Session Expiry 0x11 = 10, Receive Maximum 0x21 = 5: property length 8.
  const std::string want = "\x10\x18\x00\x04MQTT\x05\x02\x00\x3c\x08\x11\x00\x00\x00\x0a\x21\x00\x05\x00\x03" "abc"s;
  Connect c;
  c.version = Version::V5;
  c.keep_alive = 60;
  c.client_id = "abc";
  c.props.session_expiry_interval = 10;
  c.props.receive_maximum = 5;
  std::string out;
  encode(c, out);
  EXPECT_EQ(hex(out), hex(want));
  Parser p;
  auto pkt = parse_ok(p, want);
  EXPECT_EQ(std::get<Connect>(pkt).props.receive_maximum, 5);
  EXPECT_EQ(p.version(), Version::V5);
}

TEST(Vectors, Connack) {
  Connack c;
  c.session_present = true;
  std::string out;
  encode(c, Version::V3_1_1, out);
  EXPECT_EQ(hex(out), hex("\x20\x02\x01\x00"s));
  out.clear();
  c.session_present = false;
  c.reason = Reason::UnsupportedProtocolVersion;
  encode(c, Version::V3_1_1, out);
  EXPECT_EQ(hex(out), hex("\x20\x02\x00\x01"s));
  out.clear();
  encode(c, Version::V5, out);
  EXPECT_EQ(hex(out), hex("\x20\x03\x00\x84\x00"s));
  out.clear();
  c.reason = Reason::Banned;
  encode(c, Version::V3_1_1, out);
  EXPECT_EQ(hex(out), hex("\x20\x02\x00\x05"s));
}

TEST(Vectors, Publish) {
  Publish m;
  m.topic = "a/b";
  m.payload = "hi";
  std::string out;
  encode(m, Version::V3_1_1, out);
  EXPECT_EQ(hex(out), hex("\x30\x07\x00\x03" "a/b" "hi"s));
  out.clear();
  encode(m, Version::V5, out);
  EXPECT_EQ(hex(out), hex("\x30\x08\x00\x03" "a/b\x00" "hi"s));
  out.clear();
  m.qos = 1;
  m.packet_id = 10;
  m.retain = true;
  encode(m, Version::V3_1_1, out);
  EXPECT_EQ(hex(out), hex("\x33\x09\x00\x03" "a/b\x00\x0a" "hi"s));
  Parser p = server(Version::V3_1_1);
  auto pkt = parse_ok(p, out);
  EXPECT_EQ(std::get<Publish>(pkt).packet_id, 10);
  EXPECT_TRUE(std::get<Publish>(pkt).retain);
}

TEST(Vectors, AcksSubscribePing) {
  std::string out;
  encode(Ack{PacketType::Puback, 10}, Version::V5, out);
  encode(Ack{PacketType::Pubrel, 10}, Version::V3_1_1, out);
  encode(Ack{PacketType::Pubrec, 10, Reason::UnspecifiedError}, Version::V5, out);
  EXPECT_EQ(hex(out), hex("\x40\x02\x00\x0a\x62\x02\x00\x0a\x50\x03\x00\x0a\x80"s));

  out.clear();
  Subscribe s;
  s.packet_id = 1;
  s.subscriptions.push_back({"a/b", {1}});
  encode(s, Version::V3_1_1, out);
  EXPECT_EQ(hex(out), hex("\x82\x08\x00\x01\x00\x03" "a/b\x01"s));
  out.clear();
  s.subscriptions[0].options.no_local = true;
  s.subscriptions[0].options.retain_handling = 2;
  encode(s, Version::V5, out);
  EXPECT_EQ(hex(out), hex("\x82\x09\x00\x01\x00\x00\x03" "a/b\x25"s));

  out.clear();
  SubAck a;
  a.packet_id = 1;
  a.reasons = {Reason::GrantedQos1, Reason::NotAuthorized};
  encode(a, Version::V3_1_1, out);
  EXPECT_EQ(hex(out), hex("\x90\x04\x00\x01\x01\x80"s));  // 3.x: any failure is 0x80
  out.clear();
  encode(a, Version::V5, out);
  EXPECT_EQ(hex(out), hex("\x90\x05\x00\x01\x00\x01\x87"s));

  out.clear();
  encode_pingreq(out);
  encode_pingresp(out);
  encode(Disconnect{}, Version::V3_1_1, out);
  encode(Disconnect{}, Version::V5, out);
  encode(Disconnect{Reason::ServerShuttingDown}, Version::V5, out);
  encode(Auth{}, out);
  EXPECT_EQ(hex(out), hex("\xc0\x00\xd0\x00\xe0\x00\xe0\x00\xe0\x01\x8b\xf0\x00"s));
}

TEST(Vectors, Varint) {
  struct {
    uint32_t v;
    std::string bytes;
  } cases[] = {{0, "\x00"s}, {127, "\x7f"s}, {128, "\x80\x01"s}, {16383, "\xff\x7f"s},
               {16384, "\x80\x80\x01"s}, {2097151, "\xff\xff\x7f"s}, {2097152, "\x80\x80\x80\x01"s},
               {268435455, "\xff\xff\xff\x7f"s}};
  for (const auto& c : cases) {
    std::string out;
    EXPECT_EQ(put_varint(c.v, out), c.bytes.size());
    EXPECT_EQ(hex(out), hex(c.bytes)) << c.v;
  }
}

TEST(Vectors, LongPublishUsesMultiByteRemainingLength) {
  std::string payload(200, 'x');
  Publish m;
  m.topic = "t";
  m.payload = payload;
  std::string out;
  encode(m, Version::V3_1_1, out);
  ASSERT_EQ(out.size(), 2 + 1 + 2 + 1 + 200u);
  EXPECT_EQ(hex(out.substr(0, 3)), hex("\x30\xcb\x01"s));  // 203 = 0x4b | 0x80, 1
  Parser p = server(Version::V3_1_1);
  EXPECT_EQ(std::get<Publish>(parse_ok(p, out)).payload.size(), 200u);
}

// Streams captured from Debian's mosquitto_pub / mosquitto_sub (2.0, MQTT 5)
// against a recording socket.
TEST(Vectors, MosquittoClientsV5) {
  const std::string pub =
      "\x10\x2e\x00\x04MQTT\x05\xc6\x00\x3c\x08\x11\x00\x00\x00\x3c\x21\x00\x14\x00\x04"
      "cap8\x00\x00\x03w/t\x00\x03" "bye\x00\x04user\x00\x02pw"
      "\x32\x1f\x00\x09sensors/x\x00\x01\x0c\x26\x00\x01k\x00\x01v\x02\x00\x00\x00\x1ehello"
      "\xe0\x00"s;
  Parser p;
  Packet pkt;
  std::string_view in = pub;
  auto r = p.parse(in, pkt);
  ASSERT_EQ(r.status, ParseStatus::Ok) << r.detail;
  const auto& c = std::get<Connect>(pkt);
  EXPECT_EQ(c.client_id, "cap8");
  EXPECT_EQ(c.props.session_expiry_interval, 60u);
  EXPECT_EQ(c.props.receive_maximum, 20);
  ASSERT_TRUE(c.will);
  EXPECT_EQ(c.will->topic, "w/t");
  EXPECT_EQ(c.username, "user");
  in.remove_prefix(r.consumed);
  r = p.parse(in, pkt);
  ASSERT_EQ(r.status, ParseStatus::Ok) << r.detail;
  const auto& m = std::get<Publish>(pkt);
  EXPECT_EQ(m.topic, "sensors/x");
  EXPECT_EQ(m.qos, 1);
  EXPECT_EQ(m.packet_id, 1);
  EXPECT_EQ(m.props.message_expiry_interval, 30u);
  ASSERT_EQ(m.props.user_properties.size(), 1u);
  EXPECT_EQ(m.payload, "hello");
  in.remove_prefix(r.consumed);
  r = p.parse(in, pkt);
  ASSERT_EQ(r.status, ParseStatus::Ok);
  EXPECT_TRUE(std::holds_alternative<Disconnect>(pkt));
  EXPECT_EQ(r.consumed, in.size());

  const std::string sub =
      "\x10\x15\x00\x04MQTT\x05\x02\x00\x3c\x03\x21\x00\x14\x00\x05subv5"
      "\x82\x25\x00\x01\x09\x0b\x07\x26\x00\x01" "a\x00\x01" "b\x00\x03" "a/+\x01\x00\x03" "b/#\x01"
      "\x00\x0a$share/g/c\x01\xe0\x01\x04"s;
  Parser q;
  in = sub;
  r = q.parse(in, pkt);
  ASSERT_EQ(r.status, ParseStatus::Ok) << r.detail;
  in.remove_prefix(r.consumed);
  r = q.parse(in, pkt);
  ASSERT_EQ(r.status, ParseStatus::Ok) << r.detail;
  const auto& s = std::get<Subscribe>(pkt);
  EXPECT_EQ(s.props.subscription_identifiers, std::vector<uint32_t>{7});
  ASSERT_EQ(s.subscriptions.size(), 3u);
  EXPECT_EQ(s.subscriptions[2].filter, "$share/g/c");
  EXPECT_EQ(s.subscriptions[2].options.qos, 1);
  in.remove_prefix(r.consumed);
  r = q.parse(in, pkt);
  ASSERT_EQ(r.status, ParseStatus::Ok);
  EXPECT_EQ(std::get<Disconnect>(pkt).reason, Reason::DisconnectWithWill);
}

}  // namespace
}  // namespace sluice::mqtt
