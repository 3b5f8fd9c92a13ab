// The targets a rule may have, by TargetType: one line each.

#include <boost/json.hpp>
#include <algorithm>
#include <charconv>
#include <cstring>
#include <cstdlib>
#include <stdexcept>

#include "common/base64_to.hpp"
#include "common/crypto.hpp"
#include "common/json_string.hpp"
#include "rules/target.hpp"
#include "rules/targets_internal.hpp"

namespace sluice::rules {

std::unique_ptr<Target> make_target(const mq::Rule& rule, const TargetEnv& env) {
  if (rule.target_type == "webhook") return make_webhook_target(rule);
  if (rule.target_type == "mqtt") return make_mqtt_target(rule, env);
  if (rule.target_type == "nats") return make_nats_target(rule);
  if (rule.target_type == "postgres") return make_postgres_target(rule);
  throw std::invalid_argument("unknown target type " + rule.target_type);
}

std::string config_field(const mq::Rule& rule, std::string_view key) {
  boost::json::error_code ec;
  auto v = boost::json::parse(rule.target_config, ec);
  if (ec || !v.is_object()) return {};
  const auto* f = v.as_object().if_contains(key);
  if (!f) return {};
  if (f->is_string()) return std::string(f->as_string());
  if (f->is_int64()) return std::to_string(f->as_int64());
  return {};
}

int linger_of(const mq::Rule& rule) {
  const std::string v = config_field(rule, "LingerMs");
  return v.empty() ? kDefaultLingerMs : std::atoi(v.c_str());
}

std::string json_string(std::string_view s) {
  std::string out;
  common::json_quote_to(out, s);
  return out;
}

namespace {

// A JSON string literal of `s`: the common case (nothing to escape) as one append.
void quote_to(std::string& out, std::string_view s) {
  for (char ch : s)
    if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) return common::json_quote_to(out, s);
  out += '"';
  out.append(s);
  out += '"';
}

}  // namespace

// The envelope's fixed start, made once per target; append_message_json below is
// the per-entry part (the floor of a batched entry's cost).
std::string message_json_prefix(const mq::Rule& rule) {
  std::string out = "{\"instanceId\":";
  quote_to(out, rule.instance_id);
  out += ",\"ruleName\":";
  quote_to(out, rule.name);
  out += ",\"seq\":";
  return out;
}

void append_message_json(std::string& out, const mq::Rule& rule, const Entry& e) {
  append_message_json(out, message_json_prefix(rule), e);
}

namespace {
// Grows `out` by `n` bytes (amortised doubling, not to the exact size: a batch
// body grows entry by entry) and returns where they start.
char* grow(std::string& out, size_t n) {
  const size_t at = out.size();
  if (at + n > out.capacity()) out.reserve(std::max(at + n, 2 * out.capacity()));
  out.resize(at + n);
  return out.data() + at;
}

bool needs_escape(std::string_view s) {
  for (char ch : s)
    if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) return true;
  return false;
}

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
}  // namespace

void append_message_json(std::string& out, std::string_view prefix, const Entry& e) {
  const broker::Message& m = *e.message;
  if (needs_escape(m.topic)) [[unlikely]] {
    out.append(prefix);
    char digits[24];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, e.seq).ptr);
    out += ",\"topic\":";
    quote_to(out, m.topic);
    out += ",\"qos\":";
    out += static_cast<char>('0' + m.qos);
    out += m.retain ? ",\"retain\":true" : ",\"retain\":false";
    out += ",\"payload\":\"";
    common::base64_to(grow(out, common::base64_size(m.payload.size())), m.payload);
    out += "\"}";
    return;
  }
  // The common case: every piece's size is known, so one resize and plain copies.
  static constexpr std::string_view kTopic = ",\"topic\":\"", kQos = "\",\"qos\":", kRetain = ",\"retain\":true",
                                    kNoRetain = ",\"retain\":false", kPayload = ",\"payload\":\"", kEnd = "\"}";
  const size_t most = prefix.size() + 20 + kTopic.size() + m.topic.size() + kQos.size() + 1 + kNoRetain.size() +
                      kPayload.size() + common::base64_size(m.payload.size()) + kEnd.size();
  char* p = put(grow(out, most), prefix);
  p = std::to_chars(p, p + 20, e.seq).ptr;
  p = put(put(p, kTopic), m.topic);
  p = put(p, kQos);
  *p++ = static_cast<char>('0' + m.qos);
  p = put(p, m.retain ? kRetain : kNoRetain);
  p = put(p, kPayload);
  p += common::base64_to(p, m.payload);
  p = put(p, kEnd);
  out.resize(static_cast<size_t>(p - out.data()));
}

std::string message_json(const mq::Rule& rule, const Entry& e) {
  std::string out;
  append_message_json(out, rule, e);
  return out;
}

}  // namespace sluice::rules
