#pragma once
// Helpers shared by the sluice_mqtt unit tests.
#include <gtest/gtest.h>

#include <string>

#include "mqtt/codec.hpp"

namespace sluice::mqtt::test {

// A server parser that has already accepted a CONNECT of version v.
inline Parser server(Version v, uint32_t max = 268435460u) {
  Parser p(max);
  p.set_version(v);
  return p;
}
inline Parser client(Version v, uint32_t max = 268435460u) {
  Parser p(max);
  p.set_version(v);
  p.as_client();
  return p;
}

inline std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h += d[c >> 4];
    h += d[c & 15];
    h += ' ';
  }
  return h;
}

// Parses exactly one complete packet that must fill `bytes`.
inline Packet parse_ok(Parser& p, std::string_view bytes) {
  Packet pkt;
  ParseResult r = p.parse(bytes, pkt);
  EXPECT_EQ(r.status, ParseStatus::Ok) << (r.detail ? r.detail : "") << " in " << hex(bytes);
  EXPECT_EQ(r.consumed, bytes.size());
  return pkt;
}

inline ParseResult parse_err(Parser& p, std::string_view bytes) {
  Packet pkt;
  ParseResult r = p.parse(bytes, pkt);
  EXPECT_EQ(r.status, ParseStatus::Error) << "bytes " << hex(bytes);
  EXPECT_NE(r.detail, nullptr);
  return r;
}

}  // namespace sluice::mqtt::test
