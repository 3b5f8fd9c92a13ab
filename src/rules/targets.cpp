// The targets a rule may have, by TargetType: one line each.

#include <boost/json.hpp>
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

}  // namespace sluice::rules
