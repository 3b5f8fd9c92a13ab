// Encoders for every packet but PUBLISH (encode_publish.cpp). Each computes
// the remaining length, grows `out` once and fills it. For 3.x the MQTT 5
// fields (properties, reason codes) are dropped.
#include "mqtt/codec.hpp"
#include "mqtt/properties.hpp"

namespace sluice::mqtt {
namespace {

using namespace wire;

// Grows `out` by the whole packet, writes the fixed header, returns the body.
char* begin(std::string& out, uint8_t b0, size_t remaining) {
  char* o = grow(out, 1 + varint_size(remaining) + remaining);
  *o++ = char(b0);
  return put_varint(o, uint32_t(remaining));
}

// Property Length varint plus properties.
size_t props_total(size_t props) { return varint_size(props) + props; }

// DISCONNECT / AUTH / acks in MQTT 5: reason and properties are omitted when
// they are Success and empty (and properties alone when empty).
size_t reason_tail_size(Reason r, size_t props) {
  if (props) return 1 + props_total(props);
  return r == Reason::Success ? 0 : 1;
}
char* put_reason_tail(char* o, Reason r, const Properties& p, size_t props) {
  if (!props && r == Reason::Success) return o;
  *o++ = char(r);
  return props ? put_properties(o, p, props) : o;
}

uint8_t v3_suback_code(Reason r) {
  switch (r) {
    case Reason::Success: return 0;
    case Reason::GrantedQos1: return 1;
    case Reason::GrantedQos2: return 2;
    default: return 0x80;  // 3.x knows only "failure"
  }
}

}  // namespace

void encode(const Connect& p, std::string& out) {
  const Version v = p.version;
  const bool v5 = v == Version::V5;
  const std::string_view name = v == Version::V3_1 ? "MQIsdp" : "MQTT";
  const size_t props = v5 ? properties_size(p.props) : 0;
  const size_t will_props = v5 && p.will ? properties_size(p.will->props) : 0;
  size_t rl = str_size(name) + 1 + 1 + 2 + (v5 ? props_total(props) : 0) + str_size(p.client_id);
  if (p.will) rl += (v5 ? props_total(will_props) : 0) + str_size(p.will->topic) + str_size(p.will->payload);
  if (p.username) rl += str_size(*p.username);
  if (p.password) rl += str_size(*p.password);

  uint8_t flags = p.clean_start ? 0x02 : 0;
  if (p.will) flags |= uint8_t(0x04 | (p.will->qos & 3) << 3 | (p.will->retain ? 0x20 : 0));
  if (p.password) flags |= 0x40;
  if (p.username) flags |= 0x80;

  char* o = begin(out, 0x10, rl);
  o = put_str(o, name);
  *o++ = char(uint8_t(v));
  *o++ = char(flags);
  o = put_u16(o, p.keep_alive);
  if (v5) o = put_properties(o, p.props, props);
  o = put_str(o, p.client_id);
  if (p.will) {
    if (v5) o = put_properties(o, p.will->props, will_props);
    o = put_str(o, p.will->topic);
    o = put_str(o, p.will->payload);
  }
  if (p.username) o = put_str(o, *p.username);
  if (p.password) o = put_str(o, *p.password);
}

void encode(const Connack& p, Version v, std::string& out) {
  // MQTT 3.1 has no session-present flag: that byte is reserved there.
  const uint8_t flags = p.session_present && v != Version::V3_1 ? 1 : 0;
  if (v != Version::V5) {
    char* o = begin(out, 0x20, 2);
    o[0] = char(flags);
    o[1] = char(to_v3_connack(p.reason));
    return;
  }
  const size_t props = properties_size(p.props);
  char* o = begin(out, 0x20, 2 + props_total(props));
  *o++ = char(flags);
  *o++ = char(p.reason);
  put_properties(o, p.props, props);
}

void encode(const Ack& p, Version v, std::string& out) {
  const uint8_t b0 = uint8_t(uint8_t(p.type) << 4 | (p.type == PacketType::Pubrel ? 0x02 : 0));
  const size_t props = v == Version::V5 ? properties_size(p.props) : 0;
  const size_t tail = v == Version::V5 ? reason_tail_size(p.reason, props) : 0;
  char* o = begin(out, b0, 2 + tail);
  o = put_u16(o, p.packet_id);
  if (tail) put_reason_tail(o, p.reason, p.props, props);
}

void encode(const Subscribe& p, Version v, std::string& out) {
  const bool v5 = v == Version::V5;
  const size_t props = v5 ? properties_size(p.props) : 0;
  size_t rl = 2 + (v5 ? props_total(props) : 0);
  for (const auto& s : p.subscriptions) rl += str_size(s.filter) + 1;
  char* o = begin(out, 0x82, rl);
  o = put_u16(o, p.packet_id);
  if (v5) o = put_properties(o, p.props, props);
  for (const auto& s : p.subscriptions) {
    o = put_str(o, s.filter);
    uint8_t opt = s.options.qos & 3;
    if (v5) {
      opt |= uint8_t((s.options.no_local ? 0x04 : 0) | (s.options.retain_as_published ? 0x08 : 0) |
                     (s.options.retain_handling & 3) << 4);
    }
    *o++ = char(opt);
  }
}

void encode(const SubAck& p, Version v, std::string& out) {
  const bool v5 = v == Version::V5;
  const bool suback = p.type == PacketType::Suback;
  const uint8_t b0 = suback ? 0x90 : 0xb0;
  if (!v5 && !suback) {  // 3.1.1 UNSUBACK: packet identifier only
    put_u16(begin(out, b0, 2), p.packet_id);
    return;
  }
  const size_t props = v5 ? properties_size(p.props) : 0;
  char* o = begin(out, b0, 2 + (v5 ? props_total(props) : 0) + p.reasons.size());
  o = put_u16(o, p.packet_id);
  if (v5) o = put_properties(o, p.props, props);
  for (Reason r : p.reasons) *o++ = char(v5 ? uint8_t(r) : v3_suback_code(r));
}

void encode(const Unsubscribe& p, Version v, std::string& out) {
  const bool v5 = v == Version::V5;
  const size_t props = v5 ? properties_size(p.props) : 0;
  size_t rl = 2 + (v5 ? props_total(props) : 0);
  for (std::string_view f : p.filters) rl += str_size(f);
  char* o = begin(out, 0xa2, rl);
  o = put_u16(o, p.packet_id);
  if (v5) o = put_properties(o, p.props, props);
  for (std::string_view f : p.filters) o = put_str(o, f);
}

void encode(const Disconnect& p, Version v, std::string& out) {
  if (v != Version::V5) {
    begin(out, 0xe0, 0);
    return;
  }
  const size_t props = properties_size(p.props);
  char* o = begin(out, 0xe0, reason_tail_size(p.reason, props));
  put_reason_tail(o, p.reason, p.props, props);
}

void encode(const Auth& p, std::string& out) {
  const size_t props = properties_size(p.props);
  char* o = begin(out, 0xf0, reason_tail_size(p.reason, props));
  put_reason_tail(o, p.reason, p.props, props);
}

void encode_pingreq(std::string& out) { out.append("\xc0\x00", 2); }
void encode_pingresp(std::string& out) { out.append("\xd0\x00", 2); }

void encode(const Packet& p, Version v, std::string& out) {
  struct Visitor {
    Version v;
    std::string& out;
    void operator()(const Connect& x) const { encode(x, out); }
    void operator()(const Connack& x) const { encode(x, v, out); }
    void operator()(const Publish& x) const { encode(x, v, out); }
    void operator()(const Ack& x) const { encode(x, v, out); }
    void operator()(const Subscribe& x) const { encode(x, v, out); }
    void operator()(const SubAck& x) const { encode(x, v, out); }
    void operator()(const Unsubscribe& x) const { encode(x, v, out); }
    void operator()(const Pingreq&) const { encode_pingreq(out); }
    void operator()(const Pingresp&) const { encode_pingresp(out); }
    void operator()(const Disconnect& x) const { encode(x, v, out); }
    void operator()(const Auth& x) const { encode(x, out); }
  };
  std::visit(Visitor{v, out}, p);
}

}  // namespace sluice::mqtt
