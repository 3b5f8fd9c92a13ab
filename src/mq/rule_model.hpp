#pragma once
// Data rules of an instance (issue 19; docs/rules.md): outflow (messages whose
// topic matches a filter go to a target), inflow (messages from an external
// source are published to devices) and status (client connect / disconnect /
// tcpclean events go to a target). Stored in mq_rules, mirrored in the
// snapshot; src/rules runs them.
#include <cstdint>
#include <string>

namespace sluice::mq {

struct Rule {
  std::string instance_id;
  std::string name;          // RuleName: 1..64 of [A-Za-z0-9_-]
  std::string type;          // "outflow" | "inflow" | "status"
  std::string source_topic;  // outflow: a topic filter; inflow: the MQTT topic published to; status: ""
  std::string target_type;   // "webhook" | "nats" | "postgres" | "mqtt"
  std::string target_config; // a JSON object (docs/rules.md lists each target's fields)
  int64_t created_ms = 0, updated_ms = 0;
  // Names the rule's backlog: a rule deleted and made again starts empty.
  std::string key() const { return instance_id + "/" + name + "/" + std::to_string(created_ms); }
};

}  // namespace sluice::mq
