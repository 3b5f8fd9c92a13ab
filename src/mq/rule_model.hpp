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

// How a rule is doing now (the rules engine's counters since start; GetRule,
// ListRules, the console). Not stored.
struct RuleStatus {
  bool running = false;
  uint64_t backlog = 0, delivered = 0, overflow = 0, retries = 0, dead_lettered = 0;
  std::string last_error;
};

}  // namespace sluice::mq
