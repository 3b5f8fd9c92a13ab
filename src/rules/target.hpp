#pragma once
// Where a rule's entries go (issue 19, docs/rules.md): one small class per kind
// of target, each in its own file, made by make_target (targets.cpp). Adding a
// target (Kafka, RocketMQ, ...) is one more file and one line there.
//
// A target is called on its rule's own worker thread, one entry at a time and
// in order; it may block (with its own timeouts) but never on a broker thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "broker/message.hpp"
#include "mq/rule_model.hpp"

namespace sluice::rules {

// One entry of a rule's backlog: a message (outflow) or a status event (its
// JSON is the message's payload).
struct Entry {
  uint64_t seq = 0;  // increasing, unique (the broker store's ticket): receivers de-duplicate by it
  broker::MessagePtr message;
};

enum class Outcome : uint8_t {
  Delivered,
  Retry,   // the target is down or busy: try again after a backoff, keep the entry
  Reject,  // the target refused this entry for good (e.g. HTTP 4xx): dead-lettered after a few tries
};

// What a target may use of the server.
struct TargetEnv {
  // Publishes into an instance as the broker itself (the mqtt target, inflow
  // rules). Messages given on one `lane` are routed in order. False: not now.
  std::function<bool(const std::string& instance, broker::MessagePtr m, unsigned lane)> publish;
};

class Target {
 public:
  virtual ~Target() = default;
  // `error` says why when not Delivered (kept for GetRule / metrics; no secrets).
  virtual Outcome deliver(const Entry& e, std::string& error) = 0;
};

// The target of `rule` (its TargetConfig was checked by mq::MqService); throws
// std::invalid_argument for a target this build cannot make.
std::unique_ptr<Target> make_target(const mq::Rule& rule, const TargetEnv& env);

// The JSON envelope of an outflow message (webhook, NATS, mqtt targets with
// Body=json): instance, rule, seq, topic, qos, retain, payload in base64.
std::string message_json(const mq::Rule& rule, const Entry& e);

}  // namespace sluice::rules
