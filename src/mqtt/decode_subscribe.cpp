// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK (spec 3.8-3.11).
//
// Topic filters are checked for UTF-8 only: a filter that is well-formed
// UTF-8 but not a valid filter (e.g. "a/#/b") is decoded, and the broker
// answers it per filter (SUBACK 0x8F / 0x80) after valid_topic_filter().
#include "mqtt/decode.hpp"
#include "mqtt/properties.hpp"
#include "mqtt/reason_codes.hpp"

namespace sluice::mqtt::wire {
namespace {

uint16_t read_packet_id(Reader& r) {
  uint16_t id = r.u16();
  if (r.ok() && id == 0) r.fail(Reason::ProtocolError, "packet identifier 0");
  return id;
}

bool is_shared(std::string_view f) { return f.starts_with("$share/"); }

}  // namespace

void decode_subscribe(Reader& r, Version v, Packet& out) {
  Subscribe& s = use<Subscribe>(out);
  s.subscriptions.clear();
  reset(s.props);
  s.packet_id = read_packet_id(r);
  const bool v5 = v == Version::V5;
  if (v5) read_properties(r, s.props, allow::kSubscribe);
  while (r.ok() && !r.at_end()) {
    Subscription sub;
    sub.filter = r.utf8();
    const uint8_t o = r.u8();
    if (!r.ok()) return;
    sub.options.qos = o & 3;
    if (v5) {
      if (o & 0xc0) return r.fail(Reason::MalformedPacket, "subscription options reserved bits set");
      if (sub.options.qos == 3) return r.fail(Reason::ProtocolError, "subscription QoS 3");
      sub.options.no_local = o & 0x04;
      sub.options.retain_as_published = o & 0x08;
      sub.options.retain_handling = (o >> 4) & 3;
      if (sub.options.retain_handling == 3) return r.fail(Reason::ProtocolError, "retain handling 3");
      if (sub.options.no_local && is_shared(sub.filter))
        return r.fail(Reason::ProtocolError, "no local on a shared subscription");
    } else {
      if (o & 0xfc) return r.fail(Reason::MalformedPacket, "subscription options reserved bits set");
      if (sub.options.qos == 3) return r.fail(Reason::MalformedPacket, "subscription QoS 3");
    }
    s.subscriptions.push_back(sub);
  }
  if (r.ok() && s.subscriptions.empty())
    r.fail(v5 ? Reason::ProtocolError : Reason::MalformedPacket, "SUBSCRIBE with no topic filters");
}

void decode_unsubscribe(Reader& r, Version v, Packet& out) {
  Unsubscribe& u = use<Unsubscribe>(out);
  u.filters.clear();
  reset(u.props);
  u.packet_id = read_packet_id(r);
  const bool v5 = v == Version::V5;
  if (v5) read_properties(r, u.props, allow::kUnsubscribe);
  while (r.ok() && !r.at_end()) {
    std::string_view f = r.utf8();
    if (r.ok()) u.filters.push_back(f);
  }
  if (r.ok() && u.filters.empty())
    r.fail(v5 ? Reason::ProtocolError : Reason::MalformedPacket, "UNSUBSCRIBE with no topic filters");
}

void decode_suback(Reader& r, PacketType t, Version v, Packet& out) {
  SubAck& a = use<SubAck>(out);
  a.type = t;
  a.reasons.clear();
  reset(a.props);
  a.packet_id = read_packet_id(r);
  const bool v5 = v == Version::V5;
  if (t == PacketType::Unsuback && !v5) return expect_end(r, "3.x UNSUBACK with a payload");
  if (v5) read_properties(r, a.props, allow::kAck);
  const CodeSet& allowed = t == PacketType::Suback ? (v5 ? kSubackCodes : kSubackV3Codes) : kUnsubackCodes;
  while (r.ok() && !r.at_end()) {
    const uint8_t code = r.u8();
    if (!allowed.has(code))
      return r.fail(v5 ? Reason::ProtocolError : Reason::MalformedPacket, "invalid SUBACK/UNSUBACK reason code");
    a.reasons.push_back(Reason(code));
  }
  if (r.ok() && a.reasons.empty()) r.fail(Reason::ProtocolError, "SUBACK/UNSUBACK without reason codes");
}

}  // namespace sluice::mqtt::wire
