#pragma once
// The rules engine (issue 19, docs/rules.md): keeps one RuleRunner per rule of
// every instance, in step with the mq snapshot (apply), and observes the
// broker's namespaces that have rules: a published message whose topic
// matches an outflow rule, and every client status event for status rules, go
// into those rules' backlogs. A namespace without rules has no observer.
//
// Durability: each entry is recorded in the broker store (PersistRecord
// RuleQueued) and its ticket noted on the publishing loop, so a QoS 1 PUBACK
// waits until the entry is durable; the runner records RuleDone once the
// target has it. Entries read back at start (recovered) resume where they were.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/observer.hpp"
#include "broker/persistence.hpp"
#include "rules/rule_runner.hpp"

namespace sluice::broker {
class Broker;
}
namespace sluice::mq {
struct MqState;
}

namespace sluice::rules {

class DeadLetters;
class NamespaceRules;
class InflowSource;

struct EngineOptions {
  std::string dead_letter_path;  // "" : refused entries are only counted and logged
  RunnerLimits limits;
  TargetEnv env;                 // publish: the mqtt target and inflow rules
  // Runs `f` once every event loop has finished the task it is in now, so no
  // loop is still inside an observer that was replaced before the call (a loop
  // reads a namespace's observer and calls it within one task). Null: at once
  // (no loops).
  std::function<void(std::function<void()> f)> after_loops;
};

class RulesEngine {
 public:
  RulesEngine(broker::Broker& broker, EngineOptions opts);
  ~RulesEngine();  // stops every runner, detaches every namespace

  // Backlog entries read back from the broker store (before the first apply).
  void recovered(std::vector<broker::RecoveredRuleEntry>&& entries);
  // The rules of every instance as they are now (an mq snapshot listener:
  // quick, never waits for a target).
  void apply(const mq::MqState& s);
  // Stops the runners (shutdown), keeping their backlogs in the store.
  void stop();

  // Prometheus text: each rule's backlog, deliveries, overflow, retries, dead letters.
  std::string metrics_text() const;
  // One rule's counters (GetRule / admin); false if no such rule runs.
  bool stats(const std::string& instance, const std::string& name, RunnerStats& out) const;

  // Status events' sequence: increasing across the server and across restarts.
  uint64_t next_event_seq() { return event_seq_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t boot_nonce() const { return boot_nonce_; }

  // Observers alive (installed, or replaced and waiting for the loops to leave them).
  size_t observers_alive() const { return observers_alive_->load(); }

 private:
  // Frees replaced observers once no loop can be inside them (after_loops).
  void retire(std::vector<std::shared_ptr<NamespaceRules>>&& old);

  broker::Broker& broker_;
  EngineOptions opts_;
  std::unique_ptr<DeadLetters> dead_;
  const uint64_t boot_nonce_;
  std::atomic<uint64_t> event_seq_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<RuleRunner>> runners_;          // by rule key
  std::map<std::string, std::unique_ptr<InflowSource>> inflows_;        // by rule key
  std::map<std::string, int64_t> inflow_versions_;                      // by rule key: updated_ms
  std::map<std::string, std::vector<Entry>> recovered_;                 // by rule key, until the first apply
  bool applied_ = false, stopped_ = false;
  std::map<std::string, std::shared_ptr<NamespaceRules>> observers_;    // by namespace id
  std::shared_ptr<std::atomic<size_t>> observers_alive_ = std::make_shared<std::atomic<size_t>>(0);
  std::vector<std::shared_ptr<RuleRunner>> retired_runners_;
};

}  // namespace sluice::rules
