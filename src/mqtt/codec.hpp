#pragma once
// Incremental MQTT decoder and encoder. No I/O.
//
//   Parser p;                     // before CONNECT the version is unknown
//   for (;;) {
//     auto r = p.parse(buf, pkt);  // looks at the front of buf only
//     if (r.status == ParseStatus::NeedMore) break;   // read more bytes
//     if (r.status == ParseStatus::Error) { /* send r.reason, close */ }
//     handle(pkt); buf.remove_prefix(r.consumed);
//   }
//
// One read may hold many packets; call parse() until it says NeedMore.
// NeedMore is returned as soon as the fixed header proves the packet is
// incomplete, without scanning the rest; a remaining length above the
// maximum packet size is an error (PacketTooLarge) as soon as it is known,
// so a peer cannot make the broker buffer 256 MiB.
//
// What the decoder checks, and what it leaves to the broker:
//  - Everything the spec calls malformed or a protocol error that can be seen
//    in one packet: fixed header flags, varints (at most 4 bytes, minimal),
//    UTF-8 (valid_utf8), packet identifier 0, property identifiers allowed in
//    the packet, duplicates, property values (0 where non-zero is required,
//    0/1 flags; a Topic Alias of 0 is TopicAliasInvalid, 0x94), subscription
//    options, reason codes allowed in the packet.
//    An unknown property identifier is MalformedPacket; a known one in the
//    wrong packet, or a duplicate, is ProtocolError.
//  - SUBSCRIBE/UNSUBSCRIBE topic filters are only checked for UTF-8: a filter
//    that is well-formed UTF-8 but not a valid filter ("a/#/b", "$share//x")
//    is decoded, so the broker can answer it per filter (SUBACK 0x8F in v5,
//    0x80 in 3.x) after calling valid_topic_filter().
//  - PUBLISH: invalid UTF-8 topic -> MalformedPacket; wildcard -> TopicNameInvalid;
//    empty topic -> ProtocolError in v5 without a Topic Alias, TopicNameInvalid
//    in 3.x; DUP on QoS 0 -> ProtocolError in v5, MalformedPacket in 3.x.
//    Topic alias ranges, the payload format (0x99) and receive maximum are
//    session state, checked by the broker.
//  - After a CONNECT error, version() is the level the CONNECT claimed (3.1.1
//    when unknown), so the broker can answer in that version's CONNACK format
//    (0x84 / return code 1 for UnsupportedProtocolVersion).
//  - A remaining length whose 4 bytes all have the continuation bit is
//    MalformedPacket even when it would also exceed the maximum size; a
//    partial one is PacketTooLarge as soon as its lower bound exceeds it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "mqtt/packet.hpp"

namespace sluice::mqtt {

enum class ParseStatus : uint8_t { Ok, NeedMore, Error };

struct ParseResult {
  ParseStatus status = ParseStatus::NeedMore;
  size_t consumed = 0;                      // bytes of this packet when Ok
  Reason reason = Reason::Success;          // when Error: MalformedPacket, ProtocolError, PacketTooLarge, TopicNameInvalid, UnsupportedProtocolVersion, ...
  const char* detail = nullptr;             // when Error: static text naming the problem, for logs and reason strings
};

class Parser {
 public:
  // max_packet_size counts the whole packet (fixed header included), as MQTT 5 does.
  explicit Parser(uint32_t max_packet_size = 268435460u) : max_packet_size_(max_packet_size) {}

  // Until a CONNECT is decoded the only valid packet is CONNECT, and the
  // version is taken from it. set_version is for clients (e.g. sluice-bench)
  // that decode server packets.
  void set_version(Version v) { version_ = v; connected_ = true; }
  void set_max_packet_size(uint32_t n) { max_packet_size_ = n; }
  Version version() const { return version_; }

  // Server side: decodes client->server packets (CONNECT, PUBLISH, PUBACK.., SUBSCRIBE,
  // UNSUBSCRIBE, PINGREQ, DISCONNECT, AUTH). Client side (as_client()): server->client.
  ParseResult parse(std::span<const uint8_t> in, Packet& out);
  ParseResult parse(std::string_view in, Packet& out) {
    return parse(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(in.data()), in.size()), out);
  }
  Parser& as_client() { client_ = true; return *this; }

 private:
  uint32_t max_packet_size_;
  Version version_ = Version::V3_1_1;
  bool connected_ = false;
  bool client_ = false;
};

// Encoders append one complete packet to `out`. The packet must be valid for
// the version (the encoder drops v5-only fields for 3.x).
void encode(const Packet& p, Version v, std::string& out);
void encode(const Connect& p, std::string& out);  // version is p.version
void encode(const Connack& p, Version v, std::string& out);
void encode(const Publish& p, Version v, std::string& out);
void encode(const Ack& p, Version v, std::string& out);
void encode(const Subscribe& p, Version v, std::string& out);
void encode(const SubAck& p, Version v, std::string& out);
void encode(const Unsubscribe& p, Version v, std::string& out);
void encode(const Disconnect& p, Version v, std::string& out);
void encode(const Auth& p, std::string& out);
void encode_pingreq(std::string& out);
void encode_pingresp(std::string& out);

// Size in bytes of the encoded packet, without encoding it (for maximum packet size checks).
size_t encoded_size(const Publish& p, Version v);

// Variable byte integer (1..4 bytes). Returns bytes written.
size_t put_varint(uint32_t value, std::string& out);

}  // namespace sluice::mqtt
