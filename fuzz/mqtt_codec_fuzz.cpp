// libFuzzer target for the MQTT codec (src/mqtt).
//
// The first input byte picks the protocol version and a maximum packet size;
// the rest is fed to three parsers: a fresh server parser (must see CONNECT
// first), a server parser already connected with that version, and a client
// parser. Every packet decoded is re-encoded and the encoding must decode
// again, to the same bytes when re-encoded (the encoder is canonical), and
// every proper prefix of a decoded packet must be NeedMore.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mqtt/codec.hpp"
#include "mqtt/topic.hpp"

namespace {

using namespace sluice::mqtt;

[[noreturn]] void fail(const char* what, const ParseResult& r) {
  std::fprintf(stderr, "mqtt_codec_fuzz: %s (status %d reason 0x%02x detail %s)\n", what, int(r.status),
               unsigned(r.reason), r.detail ? r.detail : "-");
  std::abort();
}

// A parser in a given mode and state, to decode a packet again.
Parser twin(bool client, bool connected, Version v, uint32_t max) {
  Parser p(max);
  if (connected) p.set_version(v);
  if (client) p.as_client();
  return p;
}

void check_roundtrip(const Packet& pkt, Version v, bool client, bool connected) {
  std::string enc;
  encode(pkt, v, enc);
  Parser p = twin(client, connected, v, 268435460u);
  Packet again;
  ParseResult r = p.parse(enc, again);
  if (r.status != ParseStatus::Ok) fail("re-encoded packet does not decode", r);
  if (r.consumed != enc.size()) fail("re-encoded packet decodes to a different length", r);
  if (packet_type(again) != packet_type(pkt)) fail("re-encoded packet changed type", r);
  std::string enc2;
  encode(again, p.version(), enc2);
  if (enc2 != enc) fail("encoding is not stable across a round trip", r);
}

void run(std::string_view in, Parser p, bool client, uint32_t max) {
  Packet pkt;
  for (int n = 0; n < 1000 && !in.empty(); ++n) {
    const Version v_before = p.version();
    ParseResult r = p.parse(in, pkt);
    if (r.status == ParseStatus::NeedMore) return;
    if (r.status == ParseStatus::Error) {
      if (!r.detail) fail("error without detail", r);
      return;
    }
    if (r.consumed == 0 || r.consumed > in.size()) fail("bad consumed", r);
    if (r.consumed > max) fail("packet above max size accepted", r);
    // A proper prefix of the packet is incomplete: NeedMore, never an error
    // (other than PacketTooLarge, which is not possible here) and never Ok.
    {
      Parser q = twin(client, packet_type(pkt) != PacketType::Connect || client, v_before, max);
      Packet tmp;
      ParseResult pr = q.parse(in.substr(0, r.consumed - 1), tmp);
      if (pr.status == ParseStatus::Ok) fail("prefix of a packet decoded", pr);
    }
    const bool is_connect = std::holds_alternative<Connect>(pkt);
    check_roundtrip(pkt, p.version(), client, !is_connect || client);
    if (const auto* m = std::get_if<Publish>(&pkt)) {
      if (!m->topic.empty() && !valid_topic_name(m->topic)) fail("decoded PUBLISH topic invalid", r);
    }
    in.remove_prefix(r.consumed);
  }
}

// Reference UTF-8 check, one code point at a time, to cross-check the
// word-at-a-time scanners in utf8.cpp.
bool reference_utf8(std::string_view s, bool strict) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b = uint8_t(s[i]);
    uint32_t cp;
    size_t n;
    if (b < 0x80) { cp = b; n = 1; }
    else if ((b & 0xe0) == 0xc0) { cp = b & 0x1f; n = 2; }
    else if ((b & 0xf0) == 0xe0) { cp = b & 0x0f; n = 3; }
    else if ((b & 0xf8) == 0xf0) { cp = b & 0x07; n = 4; }
    else return false;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const uint8_t c = uint8_t(s[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = cp << 6 | (c & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0) return false;
    if (strict && (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  const Version v = sel % 3 == 0 ? Version::V3_1 : sel % 3 == 1 ? Version::V3_1_1 : Version::V5;
  const uint32_t max = (sel & 0x80) ? 64 : 268435460u;  // sometimes a small maximum packet size
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  run(in, Parser(max), false, max);  // fresh server: CONNECT first

  Parser server(max);
  server.set_version(v);
  run(in, server, false, max);

  Parser client(max);
  client.set_version(v);
  client.as_client();
  run(in, client, true, max);

  // The topic helpers must not crash on anything either.
  std::string_view g, inner;
  const size_t half = in.size() / 2;
  if (valid_topic_filter(in) && !reference_utf8(in, false)) std::abort();
  (void)parse_shared(in, g, inner);
  (void)topic_matches(in.substr(0, half), in.substr(half));
  for (bool strict : {false, true}) {
    if (valid_utf8(in, strict) != reference_utf8(in, strict)) std::abort();
  }
  const bool ref_name = !in.empty() && in.size() <= 0xffff && reference_utf8(in, false) &&
                        in.find_first_of("+#") == std::string_view::npos;
  if (valid_topic_name(in) != ref_name) std::abort();
  return 0;
}
