// PUBLISH encoding: the broker's hot path (one call per delivered message).
// Sizes the packet first, grows `out` once, then writes through a pointer:
// no temporaries and no allocation besides the growth of `out`.
#include "mqtt/codec.hpp"
#include "mqtt/properties.hpp"

namespace sluice::mqtt {
namespace {

struct PublishLayout {
  size_t props = 0;      // property bytes (v5), without their length varint
  size_t remaining = 0;  // remaining length
};

inline PublishLayout layout(const Publish& p, Version v) {
  PublishLayout l;
  l.remaining = wire::str_size(p.topic) + (p.qos ? 2 : 0) + p.payload.size();
  if (v == Version::V5) {
    l.props = wire::properties_size(p.props);
    l.remaining += wire::varint_size(l.props) + l.props;
  }
  return l;
}

}  // namespace

size_t encoded_size(const Publish& p, Version v) {
  const PublishLayout l = layout(p, v);
  return 1 + wire::varint_size(l.remaining) + l.remaining;
}

void encode(const Publish& p, Version v, std::string& out) {
  const PublishLayout l = layout(p, v);
  char* o = wire::grow(out, 1 + wire::varint_size(l.remaining) + l.remaining);
  const uint8_t qos = p.qos & 3;
  // DUP is meaningless (and forbidden) on QoS 0, so it is never written there.
  *o++ = char(0x30 | (p.dup && qos ? 0x08 : 0) | qos << 1 | (p.retain ? 1 : 0));
  o = wire::put_varint(o, uint32_t(l.remaining));
  o = wire::put_str(o, p.topic);
  if (qos) o = wire::put_u16(o, p.packet_id);
  if (v == Version::V5) o = wire::put_properties(o, p.props, l.props);
  wire::put_bytes(o, p.payload);
}

size_t put_varint(uint32_t value, std::string& out) {
  const size_t n = wire::varint_size(value > wire::kMaxVarint ? wire::kMaxVarint : value);
  wire::put_varint(wire::grow(out, n), value);
  return n;
}

}  // namespace sluice::mqtt
