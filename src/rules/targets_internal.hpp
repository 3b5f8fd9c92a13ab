#pragma once
// The target classes' makers (one file each) and what they share.
#include <memory>
#include <string>
#include <string_view>

#include "rules/target.hpp"

namespace boost::json {
class object;
}

namespace sluice::rules {

std::unique_ptr<Target> make_webhook_target(const mq::Rule& rule);   // webhook_target.cpp
std::unique_ptr<Target> make_mqtt_target(const mq::Rule& rule, const TargetEnv& env);  // mqtt_target.cpp
std::unique_ptr<Target> make_nats_target(const mq::Rule& rule);      // nats_target.cpp
std::unique_ptr<Target> make_postgres_target(const mq::Rule& rule);  // postgres_target.cpp

// A JSON string literal of `s` (quotes included).
std::string json_string(std::string_view s);
// A string field of the rule's TargetConfig ("" if absent or not a string).
std::string config_field(const mq::Rule& rule, std::string_view key);
// TargetConfig's LingerMs (webhook, nats), kDefaultLingerMs when absent.
int linger_of(const mq::Rule& rule);

}  // namespace sluice::rules
