// The targets a rule may have, by TargetType: one line each.
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <charconv>
#include <cstdlib>
#include <stdexcept>

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

// Per entry on the rule's worker (the floor of a batched entry's cost): one
// reservation, the seq without a temporary string, base64 straight into `out`.
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

void append_message_json(std::string& out, std::string_view prefix, const Entry& e) {
  const broker::Message& m = *e.message;
  const size_t b64 = 4 * ((m.payload.size() + 2) / 3);
  out.reserve(out.size() + 80 + prefix.size() + 2 * m.topic.size() + b64);
  out.append(prefix);
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, e.seq).ptr);
  out += ",\"topic\":";
  quote_to(out, m.topic);
  out += ",\"qos\":";
  out += static_cast<char>('0' + m.qos);
  out += m.retain ? ",\"retain\":true" : ",\"retain\":false";
  out += ",\"payload\":\"";
  const size_t at = out.size();
  out.resize(at + b64);
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                                reinterpret_cast<const unsigned char*>(m.payload.data()), static_cast<int>(m.payload.size()));
  out.resize(at + static_cast<size_t>(n));
  out += "\"}";
}

std::string message_json(const mq::Rule& rule, const Entry& e) {
  std::string out;
  append_message_json(out, rule, e);
  return out;
}

}  // namespace sluice::rules
