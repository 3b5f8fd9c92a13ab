// Every class of malformed packet and protocol error the decoder detects,
// with the reason code the spec asks for.
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
using namespace std::string_view_literals;  // decoded packets view static bytes

constexpr Version V3 = Version::V3_1_1;
constexpr Version V5 = Version::V5;
constexpr Reason Malformed = Reason::MalformedPacket;
constexpr Reason Protocol = Reason::ProtocolError;

struct Case {
  const char* name;
  Version v;
  bool from_server;  // decode with a client parser
  std::string bytes;
  Reason want;
};

// Every case is a complete packet on a connected parser.
const Case kCases[] = {
    // Fixed header.
    {"reserved type 0", V3, false, "\x00\x00"s, Malformed},
    {"PUBACK flags", V3, false, "\x41\x02\x00\x01"s, Malformed},
    {"PUBREL flags 0", V3, false, "\x60\x02\x00\x01"s, Malformed},
    {"SUBSCRIBE flags 0", V5, false, "\x80\x09\x00\x01\x00\x00\x03" "a/b\x01"s, Malformed},
    {"UNSUBSCRIBE flags 3", V3, false, "\xa3\x07\x00\x01\x00\x03" "a/b"s, Malformed},
    {"PINGREQ flags", V3, false, "\xc1\x00"s, Malformed},
    {"PUBLISH QoS 3", V3, false, "\x36\x07\x00\x03" "a/b\x00\x01"s, Malformed},
    {"DUP on QoS 0 (3.1.1)", V3, false, "\x38\x05\x00\x03" "a/b"s, Malformed},
    {"DUP on QoS 0 (5)", V5, false, "\x38\x06\x00\x03" "a/b\x00"s, Protocol},
    {"remaining length 5 bytes", V3, false, "\x30\xff\xff\xff\xff\x01"s, Malformed},
    {"remaining length not minimal", V3, false, "\xc0\x80\x00"s, Malformed},
    // Direction and state.
    {"CONNACK to server", V3, false, "\x20\x02\x00\x00"s, Protocol},
    {"SUBACK to server", V3, false, "\x90\x03\x00\x01\x00"s, Protocol},
    {"PINGRESP to server", V3, false, "\xd0\x00"s, Protocol},
    {"SUBSCRIBE to client", V3, true, "\x82\x08\x00\x01\x00\x03" "a/b\x01"s, Protocol},
    {"PINGREQ to client", V3, true, "\xc0\x00"s, Protocol},
    {"second CONNECT", V3, false, "\x10\x0f\x00\x04MQTT\x04\x02\x00\x3c\x00\x03" "abc"s, Protocol},
    {"AUTH in 3.1.1", V3, false, "\xf0\x00"s, Protocol},
    {"DISCONNECT to 3.1.1 client", V3, true, "\xe0\x00"s, Protocol},
    // Bodies too short / too long.
    {"topic runs past end", V3, false, "\x30\x03\x00\x0a" "a"s, Malformed},
    {"PUBACK too long (3.1.1)", V3, false, "\x40\x03\x00\x01\x00"s, Malformed},
    {"PUBACK too short", V5, false, "\x40\x01\x00"s, Malformed},
    {"PINGREQ with body", V3, false, "\xc0\x01\x00"s, Malformed},
    {"DISCONNECT with body (3.1.1)", V3, false, "\xe0\x01\x00"s, Malformed},
    {"3.1.1 UNSUBACK with payload", V3, true, "\xb0\x03\x00\x01\x00"s, Malformed},
    // UTF-8.
    {"topic overlong NUL", V3, false, "\x30\x04\x00\x02\xc0\x80"s, Malformed},
    {"topic U+0000", V3, false, "\x30\x05\x00\x03" "a\x00" "b"s, Malformed},
    {"topic surrogate", V3, false, "\x30\x05\x00\x03\xed\xa0\x80"s, Malformed},
    {"topic truncated sequence", V3, false, "\x30\x04\x00\x02" "a\xe2"s, Malformed},
    {"topic above U+10FFFF", V3, false, "\x30\x06\x00\x04\xf4\x90\x80\x80"s, Malformed},
    {"filter bad UTF-8", V3, false, "\x82\x06\x00\x01\x00\x01\xff\x00"s, Malformed},
    {"user property bad UTF-8", V5, false, "\x30\x0b\x00\x01t\x07\x26\x00\x01\xff\x00\x01v"s, Malformed},
    // PUBLISH topics.
    {"topic with +", V3, false, "\x30\x05\x00\x03" "a/+"s, Reason::TopicNameInvalid},
    {"topic with #", V5, false, "\x30\x06\x00\x03" "a/#\x00"s, Reason::TopicNameInvalid},
    {"empty topic (3.1.1)", V3, false, "\x30\x02\x00\x00"s, Reason::TopicNameInvalid},
    {"empty topic no alias (5)", V5, false, "\x30\x03\x00\x00\x00"s, Protocol},
    {"response topic wildcard", V5, false, "\x30\x09\x00\x01t\x05\x08\x00\x02" "a#"s, Protocol},
    // Packet identifiers.
    {"PUBLISH id 0", V3, false, "\x32\x05\x00\x01t\x00\x00"s, Protocol},
    {"PUBACK id 0", V3, false, "\x40\x02\x00\x00"s, Protocol},
    {"PUBREL id 0", V5, true, "\x62\x02\x00\x00"s, Protocol},
    {"SUBSCRIBE id 0", V3, false, "\x82\x06\x00\x00\x00\x01t\x00"s, Protocol},
    {"UNSUBSCRIBE id 0", V3, false, "\xa2\x05\x00\x00\x00\x01t"s, Protocol},
    {"SUBACK id 0", V3, true, "\x90\x03\x00\x00\x00"s, Protocol},
    // SUBSCRIBE / UNSUBSCRIBE payloads.
    {"SUBSCRIBE no filters (3.1.1)", V3, false, "\x82\x02\x00\x01"s, Malformed},
    {"SUBSCRIBE no filters (5)", V5, false, "\x82\x03\x00\x01\x00"s, Protocol},
    {"UNSUBSCRIBE no filters (5)", V5, false, "\xa2\x03\x00\x01\x00"s, Protocol},
    {"UNSUBSCRIBE no filters (3.1.1)", V3, false, "\xa2\x02\x00\x01"s, Malformed},
    {"options reserved bits (3.1.1)", V3, false, "\x82\x06\x00\x01\x00\x01t\x04"s, Malformed},
    {"options QoS 3 (3.1.1)", V3, false, "\x82\x06\x00\x01\x00\x01t\x03"s, Malformed},
    {"options reserved bits (5)", V5, false, "\x82\x07\x00\x01\x00\x00\x01t\x40"s, Malformed},
    {"options QoS 3 (5)", V5, false, "\x82\x07\x00\x01\x00\x00\x01t\x03"s, Protocol},
    {"retain handling 3", V5, false, "\x82\x07\x00\x01\x00\x00\x01t\x30"s, Protocol},
    {"no local on shared", V5, false, "\x82\x10\x00\x01\x00\x00\x0a$share/g/t\x04"s, Protocol},
    {"filter without options", V3, false, "\x82\x05\x00\x01\x00\x01t"s, Malformed},
    {"SUBACK bad code (3.1.1)", V3, true, "\x90\x03\x00\x01\x03"s, Malformed},
    {"SUBACK bad code (5)", V5, true, "\x90\x04\x00\x01\x00\x10"s, Protocol},
    {"SUBACK no codes", V5, true, "\x90\x03\x00\x01\x00"s, Protocol},
    // Properties.
    {"duplicate property", V5, false, "\x30\x0e\x00\x01t\x0a\x02\x00\x00\x00\x01\x02\x00\x00\x00\x02"s, Protocol},
    {"subscription id from client", V5, false, "\x30\x06\x00\x01t\x02\x0b\x01"s, Protocol},
    {"property not allowed", V5, false, "\x30\x09\x00\x01t\x05\x11\x00\x00\x00\x01"s, Protocol},
    {"unknown property", V5, false, "\x30\x06\x00\x01t\x02\x7f\x00"s, Malformed},
    {"property id >= 0x80", V5, false, "\x30\x06\x00\x01t\x02\x80\x01"s, Malformed},
    {"property length past end", V5, false, "\x30\x06\x00\x01t\x09\x02\x00"s, Malformed},
    {"property value truncated", V5, false, "\x30\x07\x00\x01t\x03\x02\x00\x00"s, Malformed},
    {"topic alias 0", V5, false, "\x30\x07\x00\x01t\x03\x23\x00\x00"s, Reason::TopicAliasInvalid},
    {"subscription identifier 0", V5, false, "\x82\x09\x00\x01\x02\x0b\x00\x00\x01t\x00"s, Protocol},
    {"subscription identifier twice", V5, false, "\x82\x0b\x00\x01\x04\x0b\x01\x0b\x02\x00\x01t\x00"s, Protocol},
    {"payload format 2", V5, false, "\x30\x06\x00\x01t\x02\x01\x02"s, Protocol},
    {"maximum QoS 2", V5, true, "\x20\x05\x00\x00\x02\x24\x02"s, Protocol},
    {"receive maximum 0 in CONNACK", V5, true, "\x20\x06\x00\x00\x03\x21\x00\x00"s, Protocol},
    {"session expiry from server", V5, true, "\xe0\x07\x00\x05\x11\x00\x00\x00\x01"s, Protocol},
    {"server reference from client", V5, false, "\xe0\x06\x00\x04\x1c\x00\x01x"s, Protocol},
    // Reason codes.
    {"PUBACK bad reason", V5, false, "\x40\x03\x00\x01\x92"s, Protocol},
    {"PUBREL bad reason", V5, false, "\x62\x03\x00\x01\x10"s, Protocol},
    {"DISCONNECT bad reason", V5, false, "\xe0\x01\x01"s, Protocol},
    {"AUTH bad reason", V5, false, "\xf0\x01\x01"s, Protocol},
    {"CONNACK bad reason", V5, true, "\x20\x03\x00\x01\x00"s, Protocol},
    {"CONNACK bad return code", V3, true, "\x20\x02\x00\x06"s, Malformed},
    {"CONNACK reserved flags", V3, true, "\x20\x02\x02\x00"s, Malformed},
};

TEST(Errors, Table) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Parser p = c.from_server ? client(c.v) : server(c.v);
    Packet pkt;
    ParseResult r = p.parse(c.bytes, pkt);
    EXPECT_EQ(r.status, ParseStatus::Error) << hex(c.bytes);
    EXPECT_EQ(r.reason, c.want) << (r.detail ? r.detail : "(no detail)");
    EXPECT_NE(r.detail, nullptr);
  }
}

// Same table, fed byte by byte: every prefix is NeedMore or the same error.
TEST(Errors, TableIncrementally) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Parser p = c.from_server ? client(c.v) : server(c.v);
    Packet pkt;
    ParseResult last;
    for (size_t n = 1; n <= c.bytes.size(); ++n) {
      last = p.parse(std::string_view(c.bytes).substr(0, n), pkt);
      if (last.status != ParseStatus::NeedMore) break;
    }
    EXPECT_EQ(last.status, ParseStatus::Error);
    EXPECT_EQ(last.reason, c.want);
  }
}

TEST(Errors, DetailNamesTheProblem) {
  Parser p = server(V3);
  Packet pkt;
  auto r = p.parse("\x30\x05\x00\x03" "a/+"s, pkt);
  EXPECT_STREQ(r.detail, "PUBLISH topic contains wildcard");
  r = p.parse("\x30\xff\xff\xff\xff\x01"s, pkt);
  EXPECT_STREQ(r.detail, "remaining length exceeds 4 bytes");
}

TEST(Errors, FourContinuationBytesFailWithoutAFifth) {
  Parser p = server(V3);
  Packet pkt;
  auto r = p.parse("\x30\xff\xff\xff\xff"s, pkt);
  EXPECT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.reason, Malformed);
}

TEST(Errors, FiveByteVarintIsMalformedEvenWithASmallMaximum) {
  Parser p = server(V3, 1 << 20);
  Packet pkt;
  auto r = p.parse("\x30\xff\xff\xff\xff\x01"s, pkt);
  EXPECT_EQ(r.reason, Malformed);
}

TEST(Errors, HugeRemainingLengthIsTooLargeFromTheFixedHeaderAlone) {
  Parser p = server(V3, 1024);
  Packet pkt;
  // 256 MiB - 1 remaining length, and not one byte of it sent.
  auto r = p.parse("\x30\xff\xff\xff\x7f"s, pkt);
  EXPECT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.reason, Reason::PacketTooLarge);
  // A partial varint is judged by its lower bound: 0xff 0xff... is at least
  // 16383 + 16384, too large already; 0xff... may still be 255.
  EXPECT_EQ(p.parse("\x30\xff\xff"s, pkt).reason, Reason::PacketTooLarge);
  EXPECT_EQ(p.parse("\x30\xff"s, pkt).status, ParseStatus::NeedMore);
  Parser big = server(V3);  // default maximum: the largest MQTT packet fits
  EXPECT_EQ(big.parse("\x30\xff\xff\xff\x7f"s, pkt).status, ParseStatus::NeedMore);
}

TEST(Errors, MaxPacketSizeCountsTheFixedHeader) {
  const std::string pkt7 = "\x30\x05\x00\x01t" "ab"s;  // 7 bytes in all
  Parser ok = server(V3, 7);
  parse_ok(ok, pkt7);
  Parser small = server(V3, 6);
  Packet pkt;
  EXPECT_EQ(small.parse(pkt7.substr(0, 2), pkt).reason, Reason::PacketTooLarge);
}

TEST(Errors, BeforeConnectOnlyConnect) {
  for (std::string bytes : {"\x30\x03\x00\x01t"s, "\xc0\x00"s, "\xe0\x00"s, "GET / HTTP/1.1\r\n"s}) {
    Parser p;
    Packet pkt;
    auto r = p.parse(bytes, pkt);
    EXPECT_EQ(r.status, ParseStatus::Error);
    EXPECT_EQ(r.reason, Protocol);
  }
}

struct ConnectCase {
  const char* name;
  std::string bytes;
  Reason want;
  Version claimed;
};

const ConnectCase kConnectCases[] = {
    {"unknown name", "\x10\x0f\x00\x04MQTX\x04\x02\x00\x3c\x00\x03" "abc"s, Reason::UnsupportedProtocolVersion, V3},
    {"MQTT level 3", "\x10\x0f\x00\x04MQTT\x03\x02\x00\x3c\x00\x03" "abc"s, Reason::UnsupportedProtocolVersion, Version::V3_1},
    {"MQTT level 6", "\x10\x0f\x00\x04MQTT\x06\x02\x00\x3c\x00\x03" "abc"s, Reason::UnsupportedProtocolVersion, V3},
    {"MQIsdp level 4", "\x10\x11\x00\x06MQIsdp\x04\x02\x00\x3c\x00\x03" "abc"s, Reason::UnsupportedProtocolVersion, V3},
    {"reserved flag", "\x10\x0f\x00\x04MQTT\x04\x03\x00\x3c\x00\x03" "abc"s, Malformed, V3},
    {"will qos without will", "\x10\x0f\x00\x04MQTT\x04\x0a\x00\x3c\x00\x03" "abc"s, Malformed, V3},
    {"will retain without will", "\x10\x0f\x00\x04MQTT\x04\x22\x00\x3c\x00\x03" "abc"s, Malformed, V3},
    {"will qos 3", "\x10\x13\x00\x04MQTT\x04\x1e\x00\x3c\x00\x01" "a\x00\x01t\x00\x01p"s, Malformed, V3},
    {"password without user (3.1.1)", "\x10\x11\x00\x04MQTT\x04\x42\x00\x3c\x00\x01" "a\x00\x02pw"s, Malformed, V3},
    {"will topic wildcard", "\x10\x13\x00\x04MQTT\x04\x06\x00\x3c\x00\x01" "a\x00\x01#\x00\x01p"s, Reason::TopicNameInvalid, V3},
    {"trailing bytes", "\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x03" "abcX"s, Malformed, V3},
    {"client id bad UTF-8", "\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01\xff"s, Malformed, V3},
    {"receive maximum 0 (5)", "\x10\x10\x00\x04MQTT\x05\x02\x00\x3c\x03\x21\x00\x00\x00\x00"s, Protocol, V5},
    {"max packet size 0 (5)", "\x10\x12\x00\x04MQTT\x05\x02\x00\x3c\x05\x27\x00\x00\x00\x00\x00\x00"s, Protocol, V5},
    {"auth data without method", "\x10\x10\x00\x04MQTT\x05\x02\x00\x3c\x03\x16\x00\x00\x00\x00"s, Protocol, V5},
    {"request problem info 2", "\x10\x0f\x00\x04MQTT\x05\x02\x00\x3c\x02\x17\x02\x00\x00"s, Protocol, V5},
    {"topic alias in CONNECT", "\x10\x10\x00\x04MQTT\x05\x02\x00\x3c\x03\x23\x00\x01\x00\x00"s, Protocol, V5},
};

TEST(Errors, Connect) {
  for (const auto& c : kConnectCases) {
    SCOPED_TRACE(c.name);
    Parser p;
    Packet pkt;
    auto r = p.parse(c.bytes, pkt);
    EXPECT_EQ(r.status, ParseStatus::Error) << hex(c.bytes);
    EXPECT_EQ(r.reason, c.want) << (r.detail ? r.detail : "");
    EXPECT_EQ(p.version(), c.claimed);
  }
}

TEST(Errors, V5PasswordWithoutUserIsFine) {
  Parser p;
  auto pkt = parse_ok(p, "\x10\x12\x00\x04MQTT\x05\x42\x00\x3c\x00\x00\x01" "a\x00\x02pw"sv);
  EXPECT_EQ(std::get<Connect>(pkt).password, "pw");
  EXPECT_FALSE(std::get<Connect>(pkt).username);
}

TEST(Errors, AcceptedEdgeCases) {
  // Invalid-but-UTF-8 filters are decoded; the broker rejects them per filter.
  Parser s5 = server(V5);
  auto pkt = parse_ok(s5, "\x82\x0b\x00\x01\x00\x00\x05" "a/#/b\x00"sv);
  EXPECT_EQ(std::get<Subscribe>(pkt).subscriptions[0].filter, "a/#/b");
  // Empty topic with a topic alias (5).
  pkt = parse_ok(s5, "\x30\x06\x00\x00\x03\x23\x00\x01"sv);
  EXPECT_EQ(std::get<Publish>(pkt).props.topic_alias, 1);
  // User properties may repeat.
  pkt = parse_ok(s5, "\x30\x12\x00\x01t\x0e\x26\x00\x01k\x00\x01v\x26\x00\x01k\x00\x01w"sv);
  EXPECT_EQ(std::get<Publish>(pkt).props.user_properties.size(), 2u);
  // A server may send several subscription identifiers.
  Parser c5 = client(V5);
  pkt = parse_ok(c5, "\x30\x08\x00\x01t\x04\x0b\x01\x0b\x02"sv);
  EXPECT_EQ(std::get<Publish>(pkt).props.subscription_identifiers.size(), 2u);
  // MQTT 5 acks may omit the reason code; DISCONNECT may carry a reason only.
  pkt = parse_ok(s5, "\x40\x02\x00\x01"sv);
  EXPECT_EQ(std::get<Ack>(pkt).reason, Reason::Success);
  pkt = parse_ok(s5, "\xe0\x01\x04"sv);
  EXPECT_EQ(std::get<Disconnect>(pkt).reason, Reason::DisconnectWithWill);
}

}  // namespace
}  // namespace sluice::mqtt
