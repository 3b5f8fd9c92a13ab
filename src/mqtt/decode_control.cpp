// DISCONNECT (spec 3.14) and AUTH (3.15). PINGREQ/PINGRESP have no body and
// are handled in decode.cpp.
#include "mqtt/decode.hpp"
#include "mqtt/properties.hpp"
#include "mqtt/reason_codes.hpp"

namespace sluice::mqtt::wire {

void decode_disconnect(Reader& r, Version v, bool from_server, Packet& out) {
  Disconnect& d = use<Disconnect>(out);
  d.reason = Reason::Success;
  reset(d.props);
  if (v != Version::V5) return expect_end(r, "3.x DISCONNECT with a body");
  // Remaining length 0: Normal disconnection; < 2: no properties (3.14.2).
  if (r.at_end()) return;
  const uint8_t code = r.u8();
  if (!kDisconnectCodes.has(code)) return r.fail(Reason::ProtocolError, "invalid DISCONNECT reason code");
  d.reason = Reason(code);
  if (!r.at_end()) read_properties(r, d.props, from_server ? allow::kDisconnectToClient : allow::kDisconnectToServer);
  expect_end(r, "unexpected bytes after DISCONNECT properties");
}

void decode_auth(Reader& r, Packet& out) {
  Auth& a = use<Auth>(out);
  a.reason = Reason::Success;
  reset(a.props);
  if (r.at_end()) return;  // Success, no properties (3.15.2.1)
  const uint8_t code = r.u8();
  if (!kAuthCodes.has(code)) return r.fail(Reason::ProtocolError, "invalid AUTH reason code");
  a.reason = Reason(code);
  if (!r.at_end()) read_properties(r, a.props, allow::kAuth);
  expect_end(r, "unexpected bytes after AUTH properties");
}

}  // namespace sluice::mqtt::wire
