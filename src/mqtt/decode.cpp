// Parser::parse: the fixed header (spec 2.1) and dispatch to the body decoders.
// Everything that can be judged from the first byte is judged before the
// remaining length is read, and the remaining length is judged (too long,
// too large, incomplete) before any byte of the body is looked at.
#include "mqtt/codec.hpp"
#include "mqtt/decode.hpp"

namespace sluice::mqtt {
namespace {

using wire::Reader;

ParseResult error(Reason r, const char* detail) {
  ParseResult res;
  res.status = ParseStatus::Error;
  res.reason = r;
  res.detail = detail;
  return res;
}

// Packet types each side may receive: bit t set = type t allowed.
constexpr uint16_t kToServer = 1 << 1 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 10 |
                               1 << 12 | 1 << 14 | 1 << 15;
constexpr uint16_t kToClient = 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 9 | 1 << 11 |
                               1 << 13 | 1 << 14 | 1 << 15;

}  // namespace

ParseResult Parser::parse(std::span<const uint8_t> in, Packet& out) {
  if (in.empty()) return {};
  const uint8_t b0 = in[0];
  const unsigned type = b0 >> 4;
  const uint8_t flags = b0 & 0x0f;

  // First byte: type, connection state, direction, flags.
  if (type == 0) return error(Reason::MalformedPacket, "reserved packet type 0");
  if (!client_) {
    if (!connected_ && type != 1) return error(Reason::ProtocolError, "first packet is not CONNECT");
    if (connected_ && type == 1) return error(Reason::ProtocolError, "second CONNECT");
  }
  if (!((client_ ? kToClient : kToServer) & (1u << type)))
    return error(Reason::ProtocolError, "packet type not valid in this direction");
  const bool v5 = version_ == Version::V5;
  if (!v5 && (type == 15 || (type == 14 && client_)))
    return error(Reason::ProtocolError, "packet type requires MQTT 5");
  if (type == 3) {
    if ((flags & 0x06) == 0x06) return error(Reason::MalformedPacket, "PUBLISH QoS 3");
    // 3.1.1 makes this malformed; MQTT 5 [MQTT-3.3.1-2] a protocol violation.
    if ((flags & 0x08) && !(flags & 0x06))
      return error(v5 ? Reason::ProtocolError : Reason::MalformedPacket, "PUBLISH DUP set with QoS 0");
  } else {
    const uint8_t want = (type == 6 || type == 8 || type == 10) ? 0x02 : 0x00;
    if (flags != want) return error(Reason::MalformedPacket, "reserved fixed header flags invalid");
  }

  // Remaining length: a varint of at most 4 bytes, minimally encoded. The
  // bytes at hand are read first, so a complete 5-byte varint is reported as
  // malformed even when it would also be too large.
  uint32_t rl = 0;
  size_t hdr = 1;
  bool complete = false;
  for (int i = 0; i < 4 && hdr < in.size(); ++i) {
    const uint8_t b = in[hdr++];
    rl |= uint32_t(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      if (i > 0 && b == 0) return error(Reason::MalformedPacket, "remaining length not minimally encoded");
      complete = true;
      break;
    }
  }
  if (!complete) {
    if (hdr == 5) return error(Reason::MalformedPacket, "remaining length exceeds 4 bytes");
    // Every byte so far has its continuation bit set, so the length is at
    // least rl + 128^k (the next byte is non-zero, being minimal): a packet
    // that cannot fit is rejected before the rest of its header arrives.
    if (uint64_t(hdr) + 1 + rl + (uint64_t(1) << (7 * (hdr - 1))) > max_packet_size_)
      return error(Reason::PacketTooLarge, "packet exceeds maximum packet size");
    return {};  // NeedMore
  }
  const uint64_t total = uint64_t(hdr) + rl;
  if (total > max_packet_size_) return error(Reason::PacketTooLarge, "packet exceeds maximum packet size");
  if (in.size() < total) return {};  // NeedMore

  Reader r(in.data() + hdr, in.data() + total);
  switch (type) {
    case 1: {
      Version claimed = Version::V3_1_1;
      wire::decode_connect(r, out, claimed);
      version_ = claimed;  // even on error: the CONNACK must use the client's format
      if (r.ok()) connected_ = true;
      break;
    }
    case 2: wire::decode_connack(r, version_, out); break;
    case 3: wire::decode_publish(r, flags, version_, client_, out); break;
    case 4: wire::decode_ack(r, PacketType::Puback, version_, out); break;
    case 5: wire::decode_ack(r, PacketType::Pubrec, version_, out); break;
    case 6: wire::decode_ack(r, PacketType::Pubrel, version_, out); break;
    case 7: wire::decode_ack(r, PacketType::Pubcomp, version_, out); break;
    case 8: wire::decode_subscribe(r, version_, out); break;
    case 9: wire::decode_suback(r, PacketType::Suback, version_, out); break;
    case 10: wire::decode_unsubscribe(r, version_, out); break;
    case 11: wire::decode_suback(r, PacketType::Unsuback, version_, out); break;
    case 12:
      out.emplace<Pingreq>();
      wire::expect_end(r, "PINGREQ with a body");
      break;
    case 13:
      out.emplace<Pingresp>();
      wire::expect_end(r, "PINGRESP with a body");
      break;
    case 14: wire::decode_disconnect(r, version_, client_, out); break;
    case 15: wire::decode_auth(r, out); break;
  }
  if (!r.ok()) return error(r.error().reason, r.error().detail);
  ParseResult res;
  res.status = ParseStatus::Ok;
  res.consumed = size_t(total);
  return res;
}

}  // namespace sluice::mqtt
