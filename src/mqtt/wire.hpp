#pragma once
// Internal to sluice_mqtt: bounds-checked reading of packet bodies and the
// small writers the encoders share. Not part of the public contract.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "mqtt/reason.hpp"
#include "mqtt/topic.hpp"

namespace sluice::mqtt::wire {

// A decode failure: reason for the peer, static detail for logs. detail ==
// nullptr means "no error", so the struct can be returned and tested cheaply.
struct Error {
  Reason reason = Reason::Success;
  const char* detail = nullptr;
  explicit operator bool() const { return detail != nullptr; }
};

inline constexpr uint32_t kMaxVarint = 268435455u;  // 4 bytes of 7 bits

// One pass over a PUBLISH topic (defined in topic.cpp). Invalid UTF-8 wins
// over a wildcard, because a malformed packet is the graver error.
enum class NameCheck : uint8_t { Ok, Empty, BadUtf8, Wildcard };
NameCheck check_topic_name(std::string_view topic);

// Reads fields from one complete packet body [p, end). The error is sticky:
// after the first failure every read returns zero/empty and ok() stays false,
// so decoders can read a run of fields and check once. Never reads past end.
class Reader {
 public:
  Reader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}

  bool ok() const { return !err_; }
  const Error& error() const { return err_; }
  void fail(Reason r, const char* detail) {
    if (!err_) err_ = Error{r, detail};
    p_ = end_;
  }
  size_t left() const { return size_t(end_ - p_); }
  bool at_end() const { return p_ == end_; }
  const uint8_t* pos() const { return p_; }

  // Consumes the next byte if it equals b.
  bool skip_if(uint8_t b) {
    if (p_ == end_ || *p_ != b) return false;
    ++p_;
    return true;
  }
  uint8_t u8() {
    if (p_ == end_) return truncated(), 0;
    return *p_++;
  }
  uint16_t u16() {
    if (left() < 2) return truncated(), 0;
    uint16_t v = uint16_t(p_[0] << 8 | p_[1]);
    p_ += 2;
    return v;
  }
  uint32_t u32() {
    if (left() < 4) return truncated(), 0;
    uint32_t v = uint32_t(p_[0]) << 24 | uint32_t(p_[1]) << 16 | uint32_t(p_[2]) << 8 | p_[3];
    p_ += 4;
    return v;
  }
  // Variable byte integer (spec 1.5.5): at most 4 bytes, minimal encoding.
  uint32_t varint() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      if (p_ == end_) return truncated(), 0;
      uint8_t b = *p_++;
      v |= uint32_t(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        if (i > 0 && b == 0) return fail(Reason::MalformedPacket, "variable byte integer not minimally encoded"), 0;
        return v;
      }
    }
    return fail(Reason::MalformedPacket, "variable byte integer exceeds 4 bytes"), 0;
  }
  std::string_view bytes(size_t n) {
    if (left() < n) return truncated(), std::string_view();
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  // Binary Data: two-byte length then bytes.
  std::string_view binary() {
    uint16_t n = u16();
    return bytes(n);
  }
  // UTF-8 Encoded String: two-byte length then well-formed UTF-8 (else Malformed).
  std::string_view utf8() {
    std::string_view s = binary();
    if (!valid_utf8(s)) fail(Reason::MalformedPacket, "invalid UTF-8 string");
    return s;
  }
  std::string_view rest() { return bytes(left()); }

 private:
  void truncated() { fail(Reason::MalformedPacket, "field runs past end of packet"); }

  const uint8_t* p_;
  const uint8_t* end_;
  Error err_;
};

inline size_t varint_size(uint64_t v) { return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4; }

// Raw pointer writers for encoders that size the output once and fill it.
// Values above kMaxVarint cannot be encoded; they are clamped so the output
// never exceeds the 4 bytes varint_size() promised.
inline char* put_varint(char* o, uint32_t v) {
  if (v > kMaxVarint) v = kMaxVarint;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v) b |= 0x80;
    *o++ = char(b);
  } while (v);
  return o;
}
inline char* put_u16(char* o, uint16_t v) {
  o[0] = char(v >> 8);
  o[1] = char(v);
  return o + 2;
}
inline char* put_u32(char* o, uint32_t v) {
  o[0] = char(v >> 24);
  o[1] = char(v >> 16);
  o[2] = char(v >> 8);
  o[3] = char(v);
  return o + 4;
}
inline char* put_bytes(char* o, std::string_view s) {
  if (!s.empty()) std::memcpy(o, s.data(), s.size());
  return o + s.size();
}
// Length-prefixed string / binary data. Callers guarantee size <= 65535 (the
// encoder truncates longer input rather than write a wrong length).
inline char* put_str(char* o, std::string_view s) {
  if (s.size() > 0xffff) s = s.substr(0, 0xffff);
  return put_bytes(put_u16(o, uint16_t(s.size())), s);
}
inline size_t str_size(std::string_view s) { return 2 + (s.size() > 0xffff ? 0xffff : s.size()); }

// Grows `out` by n bytes and returns where they start.
inline char* grow(std::string& out, size_t n) {
  size_t at = out.size();
  out.resize(at + n);
  return out.data() + at;
}

}  // namespace sluice::mqtt::wire
