// The outflow envelope (envelope.hpp). Callgrind, before this file (one entry
// of a 64-byte payload, a 19-digit seq, in a batch of ~20): ~1,000
// instructions, of which the base64 ~420, std::to_chars of the seq ~300,
// growing and zeroing the body per entry ~80.
#include "rules/envelope.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "common/base64_to.hpp"
#include "common/json_string.hpp"

namespace sluice::rules {

namespace {

constexpr std::string_view kTopic = ",\"topic\":\"", kQos = "\",\"qos\":", kRetain = ",\"retain\":true",
                           kNoRetain = ",\"retain\":false", kPayload = ",\"payload\":\"", kEnd = "\"}";
// Slack past an entry's end: the fixed-size copies below may write up to 16
// bytes past a piece, which the next piece (or this slack) overwrites.
constexpr size_t kSlack = 16;
constexpr size_t kFixed = 20 /* seq */ + kTopic.size() + kQos.size() + 1 + kNoRetain.size() + kPayload.size() +
                          kEnd.size() + kSlack;

// What follows the topic up to the payload, for each retain flag, padded to 48
// bytes for one fixed-size copy; the QoS digit is patched in at kQosAt.
struct Middle {
  char text[48];
  size_t size;
};
constexpr Middle middle(bool retain) {
  Middle m{};
  size_t n = 0;
  for (std::string_view part : {kQos, std::string_view("0"), retain ? kRetain : kNoRetain, kPayload})
    for (char c : part) m.text[n++] = c;
  m.size = n;
  return m;
}
constexpr Middle kMiddle[2] = {middle(false), middle(true)};
constexpr size_t kQosAt = kQos.size();
static_assert(kMiddle[0].size <= 48 && kMiddle[1].size <= 48 && 48 - kMiddle[0].size <= kSlack &&
              48 - kMiddle[1].size <= kSlack);

// The topic: two overlapping 8-byte copies for 8-16 bytes (most topics), no memcpy call.
char* put_topic(char* p, std::string_view t) {
  const size_t n = t.size();
  if (n >= 8 && n <= 16) {
    uint64_t a, b;
    std::memcpy(&a, t.data(), 8);
    std::memcpy(&b, t.data() + n - 8, 8);
    std::memcpy(p, &a, 8);
    std::memcpy(p + n - 8, &b, 8);
    return p + n;
  }
  std::memcpy(p, t.data(), n);
  return p + n;
}

// A JSON string literal of `s`: the common case (nothing to escape) as one append.
void quote_to(std::string& out, std::string_view s) {
  if (!common::json_plain(s)) return common::json_quote_to(out, s);
  out += '"';
  out.append(s);
  out += '"';
}

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// `out` grown by `n` bytes; returns where they start.
char* grow(std::string& out, size_t n) {
  const size_t at = out.size();
  if (at + n > out.capacity()) out.reserve(std::max(at + n, 2 * out.capacity()));
  out.resize(at + n);
  return out.data() + at;
}

}  // namespace

std::string message_json_prefix(const mq::Rule& rule) {
  std::string out = "{\"instanceId\":";
  quote_to(out, rule.instance_id);
  out += ",\"ruleName\":";
  quote_to(out, rule.name);
  out += ",\"seq\":";
  return out;
}

// The prefix is kept padded to whole 16-byte blocks and the seq's digits are
// read 24 bytes at a time (DecimalCounter::kReadable): fixed-size copies, no
// memcpy call; what they write past the piece's end is overwritten by the next
// piece (the fixed pieces after the seq are longer than 24 bytes, and the
// bound counts 20 for the seq).
MessageEnvelope::MessageEnvelope(const mq::Rule& rule) : prefix_(message_json_prefix(rule)) {
  prefix_len_ = prefix_.size();
  prefix_.resize((prefix_len_ + 15) / 16 * 16, ' ');
  static_assert(20 + kTopic.size() + kQos.size() + 1 + kRetain.size() + kPayload.size() + kEnd.size() >=
                    common::DecimalCounter::kReadable,
                "the seq's fixed-size copy stays within the entry's bound");
}

size_t MessageEnvelope::plain_bound(const broker::Message& m) const {
  return prefix_len_ + kFixed + m.topic.size() + common::base64_size(m.payload.size());
}

char* MessageEnvelope::write_plain(char* p, const Entry& e) {
  const broker::Message& m = *e.message;
  for (size_t i = 0; i < prefix_.size(); i += 16) std::memcpy(p + i, prefix_.data() + i, 16);
  p += prefix_len_;
  const std::string_view seq = seq_.of(e.seq);
  std::memcpy(p, seq.data(), common::DecimalCounter::kReadable);
  p += seq.size();
  p = put_topic(put(p, kTopic), m.topic);
  const Middle& mid = kMiddle[m.retain ? 1 : 0];
  std::memcpy(p, mid.text, sizeof mid.text);
  p[kQosAt] = static_cast<char>('0' + m.qos);
  p += mid.size;
  p += common::base64_to(p, m.payload);
  return put(p, kEnd);
}

void MessageEnvelope::append_escaped(common::OutBuffer& out, const Entry& e) {
  std::string one;
  append_message_json(one, std::string_view(prefix_).substr(0, prefix_len_), e);
  out.append(one);
}

void MessageEnvelope::append(common::OutBuffer& out, const Entry& e) {
  if (!common::json_plain(e.message->topic)) [[unlikely]]
    return append_escaped(out, e);
  out.commit(write_plain(out.room(plain_bound(*e.message)), e));
}

void MessageEnvelope::append_lines(common::OutBuffer& out, const Entry* first, size_t n) {
  size_t i = 0;
  while (i < n) {
    // A run of entries with plain topics: room made once, then plain copies.
    size_t j = i, bound = 0;
    for (; j < n && common::json_plain(first[j].message->topic); ++j) bound += plain_bound(*first[j].message) + 1;
    if (j > i) {
      char* p = out.room(bound);
      for (; i < j; ++i) {
        p = write_plain(p, first[i]);
        *p++ = '\n';
      }
      out.commit(p);
    }
    if (i < n) {
      append_escaped(out, first[i++]);
      out.push_back('\n');
    }
  }
}

void append_message_json(std::string& out, std::string_view prefix, const Entry& e) {
  const broker::Message& m = *e.message;
  out.append(prefix);
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, e.seq).ptr);
  out += ",\"topic\":";
  quote_to(out, m.topic);
  out += ",\"qos\":";
  out += static_cast<char>('0' + m.qos);
  out += m.retain ? kRetain : kNoRetain;
  out += kPayload;
  common::base64_to(grow(out, common::base64_size(m.payload.size())), m.payload);
  out += kEnd;
}

void append_message_json(std::string& out, const mq::Rule& rule, const Entry& e) {
  append_message_json(out, message_json_prefix(rule), e);
}

std::string message_json(const mq::Rule& rule, const Entry& e) {
  std::string out;
  append_message_json(out, rule, e);
  return out;
}

}  // namespace sluice::rules
