// The mqtt target: republish into the same instance on the rule's Topic.
// Outflow: the message as published (payload, QoS, MQTT 5 properties), on the
// new topic; status: the event's JSON at QoS 1. Loops (the new topic feeding
// the rule again, directly or through other rules) are refused when the rule
// is made (mq_rules.cpp).
#include <functional>

#include "rules/targets_internal.hpp"

namespace sluice::rules {

namespace {

class MqttTarget final : public Target {
 public:
  MqttTarget(const mq::Rule& rule, const TargetEnv& env)
      : instance_(rule.instance_id),
        topic_(config_field(rule, "Topic")),
        status_(rule.type == "status"),
        lane_(static_cast<unsigned>(std::hash<std::string>{}(rule.key()))),
        env_(env) {}

  Outcome deliver(const Entry& e, std::string& error) override {
    auto m = std::make_shared<broker::Message>(*e.message);
    m->topic = topic_;
    m->retain = false;
    m->origin = 0;
    m->route_key = 0;
    m->log_seq = 0;
    if (status_) {
      m->qos = 1;
      m->payload_format = 1;
      m->content_type = "application/json";
    }
    if (env_.publish && env_.publish(instance_, std::move(m), lane_)) return Outcome::Delivered;
    error = "the broker is not accepting messages for " + instance_ + " now";
    return Outcome::Retry;
  }

 private:
  std::string instance_, topic_;
  bool status_;
  unsigned lane_;  // one loop for the whole rule: its messages keep their order
  TargetEnv env_;
};

}  // namespace

std::unique_ptr<Target> make_mqtt_target(const mq::Rule& rule, const TargetEnv& env) {
  return std::make_unique<MqttTarget>(rule, env);
}

}  // namespace sluice::rules
