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
#include <vector>

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
  // The same, then `routed` on the loop once the message is routed, with the
  // newest store ticket the routing made (0: none; a persistent session's
  // copy makes one). False: not taken (the loops are not up, no such instance).
  std::function<bool(const std::string& instance, broker::MessagePtr m, unsigned lane,
                     std::function<void(uint64_t ticket)> routed)>
      publish_routed;
  // The newest durable store ticket (UINT64_MAX when acknowledgements need not wait for the disk).
  std::function<uint64_t()> durable;
};

class Target {
 public:
  virtual ~Target() = default;
  // `error` says why when not Delivered (kept for GetRule / metrics; no secrets).
  virtual Outcome deliver(const Entry& e, std::string& error) = 0;

  // At most this many entries per deliver_batch (1: one at a time). The
  // runner hands over what its backlog holds, up to this: a target that keeps
  // up gets one entry at a time, one that falls behind gets many.
  virtual size_t max_batch() const { return 1; }
  // Milliseconds the runner may wait for a batch to fill once an entry is
  // there, while the rule is busy (0: never: each entry goes as soon as the
  // target is free).
  virtual int linger_ms() const { return 0; }
  // Several entries, the backlog's front in order. Returns how many of them,
  // from the first, the target has taken; `o` is the outcome of the first one
  // it has not (Delivered when it took them all). A Reject is for the entry at
  // the returned position. The default delivers them one by one.
  virtual size_t deliver_batch(const std::vector<Entry>& batch, Outcome& o, std::string& error) {
    size_t n = 0;
    o = Outcome::Delivered;
    for (const Entry& e : batch) {
      o = deliver(e, error);
      if (o != Outcome::Delivered) break;
      ++n;
    }
    return n;
  }
};

// The target of `rule` (its TargetConfig was checked by mq::MqService); throws
// std::invalid_argument for a target this build cannot make.
std::unique_ptr<Target> make_target(const mq::Rule& rule, const TargetEnv& env);

// The webhook's and the NATS target's LingerMs when TargetConfig has none: how
// long a busy rule's worker waits for a batch to fill (docs/rules.md, "Cost":
// chosen from bench/rules_cost.sh; a quiet rule's entry never waits).
inline constexpr int kDefaultLingerMs = 20;

// The JSON envelope of an outflow message (webhook, NATS, mqtt targets with
// Body=json): instance, rule, seq, topic, qos, retain, payload in base64
// (envelope.cpp; a target writes it with MessageEnvelope, envelope.hpp).
std::string message_json(const mq::Rule& rule, const Entry& e);
void append_message_json(std::string& out, const mq::Rule& rule, const Entry& e);
// The same with the rule's part made once (a target keeps it): the envelope's
// fixed start, `{"instanceId":...,"ruleName":...,"seq":`.
std::string message_json_prefix(const mq::Rule& rule);
void append_message_json(std::string& out, std::string_view prefix, const Entry& e);

}  // namespace sluice::rules
