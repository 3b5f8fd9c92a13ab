// The targets a rule may have, by TargetType: one line each.
#include <boost/json.hpp>
#include <stdexcept>

#include "common/crypto.hpp"
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

namespace {
void escape_into(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static const char* hexd = "0123456789abcdef";
          out += "\\u00";
          out += hexd[c >> 4];
          out += hexd[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}
}  // namespace

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

std::string json_string(std::string_view s) {
  std::string out = "\"";
  escape_into(out, s);
  out += '"';
  return out;
}

std::string message_json(const mq::Rule& rule, const Entry& e) {
  const broker::Message& m = *e.message;
  std::string out;
  out.reserve(160 + m.topic.size() + m.payload.size() * 4 / 3);
  out += "{\"instanceId\":" + json_string(rule.instance_id);
  out += ",\"ruleName\":" + json_string(rule.name);
  out += ",\"seq\":" + std::to_string(e.seq);
  out += ",\"topic\":" + json_string(m.topic);
  out += ",\"qos\":" + std::to_string(m.qos);
  out += std::string(",\"retain\":") + (m.retain ? "true" : "false");
  out += ",\"payload\":\"" + common::base64_encode(m.payload) + "\"}";
  return out;
}

}  // namespace sluice::rules
