#pragma once
// Internal to sluice_mqtt: per-packet body decoders used by Parser::parse.
// Each reads one complete body from `r` into `out` and reports problems with
// r.fail(reason, detail); Parser::parse turns that into a ParseResult.
#include <variant>

#include "mqtt/packet.hpp"
#include "mqtt/wire.hpp"

namespace sluice::mqtt::wire {

// The alternative T of `out`, reusing it when it already holds one (so the
// vectors keep their capacity across packets); fields must then be reset.
template <class T>
T& use(Packet& out) {
  if (auto* p = std::get_if<T>(&out)) return *p;
  return out.template emplace<T>();
}

inline void expect_end(Reader& r, const char* detail) {
  if (r.ok() && !r.at_end()) r.fail(Reason::MalformedPacket, detail);
}

// `version` is set as soon as the protocol level is read (even on error) so
// the broker can answer a bad CONNECT in the format the client expects.
void decode_connect(Reader& r, Packet& out, Version& version);
void decode_connack(Reader& r, Version v, Packet& out);
void decode_publish(Reader& r, uint8_t flags, Version v, bool from_server, Packet& out);
void decode_ack(Reader& r, PacketType t, Version v, Packet& out);
void decode_subscribe(Reader& r, Version v, Packet& out);
void decode_suback(Reader& r, PacketType t, Version v, Packet& out);
void decode_unsubscribe(Reader& r, Version v, Packet& out);
void decode_disconnect(Reader& r, Version v, bool from_server, Packet& out);
void decode_auth(Reader& r, Packet& out);

}  // namespace sluice::mqtt::wire
