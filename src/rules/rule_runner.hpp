#pragma once
// One rule at work: its backlog (bounded, in memory, each entry also recorded
// in the broker store until its target has it) and the worker thread that
// hands the entries to the target in order, retrying with backoff while the
// target is down. Broker threads only append (one short lock); they never wait
// for a target.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/persistence.hpp"
#include "common/futex.hpp"
#include "mq/rule_model.hpp"
#include "rules/target.hpp"

namespace sluice::rules {

class DeadLetters;

struct RunnerLimits {
  size_t max_backlog = 100000;   // entries; beyond, new ones are refused and counted (overflow)
  int backoff_min_ms = 100;      // the first retry waits this long, doubling each time ..
  int backoff_max_ms = 5000;     // .. up to this
  int reject_attempts = 3;       // a refused entry (HTTP 4xx) is dead-lettered after this many tries
  size_t max_batch = 1000;       // entries handed to a target at once, at most (and at most its own max_batch)
  // RuleDone records of delivered entries are gathered this long (or this
  // many) before they go to the store: one transaction for many deletes. A
  // crash in between redelivers those entries (at least once allows it).
  int done_delay_ms = 20;
  size_t done_batch = 256;
};

// After a delivered batch this big, the next entries are written at once, not
// held for the target (rule_runner.cpp, keeping_up_).
inline constexpr size_t kHoldBatchBelow = 32;

// The seq of an entry not recorded in the store (QoS 0, or no store) has this bit set.
inline constexpr uint64_t kUnrecorded = uint64_t(1) << 63;

struct RunnerStats {
  uint64_t enqueued = 0, delivered = 0, overflow = 0, retries = 0, dead_lettered = 0;
  size_t backlog = 0;
  std::string last_error;
};

class RuleRunner {
 public:
  // `persist`: where entries are recorded until delivered (null: memory only).
  RuleRunner(mq::Rule rule, std::unique_ptr<Target> target, RunnerLimits limits, DeadLetters* dead,
             broker::Persistence* persist);
  ~RuleRunner();  // stops and joins
  RuleRunner(const RuleRunner&) = delete;
  RuleRunner& operator=(const RuleRunner&) = delete;

  // Rule and target as they are now (UpdateRule swaps them; the backlog stays).
  std::shared_ptr<const mq::Rule> rule() const;
  void replace(mq::Rule rule, std::unique_ptr<Target> target);
  const std::string& key() const { return key_; }

  // From any thread (a broker loop): appends `m`, recorded in the store.
  // Returns the record's ticket (0: none made, or the backlog is full: counted
  // as overflow).
  uint64_t enqueue(const broker::MessagePtr& m);
  // Entries read back from the broker store at start (before any enqueue).
  void restore(std::vector<Entry>&& entries);

  void start();
  // Stops the worker; with `drop`, the backlog is discarded (the rule was deleted).
  void stop(bool drop);
  bool exited() const { return exited_.load(); }

  RunnerStats stats() const;

 private:
  void run();
  // RuleDone for each recorded seq: gathered (worker thread only), then
  // submitted back to back by flush_done (one writer batch).
  void done(const std::vector<uint64_t>& seqs);
  void flush_done();
  void put_back(std::vector<Entry>& batch, size_t taken);
  // Worker thread: the rule is busy (its last delivery ended less than a
  // linger ago) and no linger of the last second gathered nothing.
  bool lingers(std::chrono::milliseconds linger) const;

  const std::string key_;
  const std::shared_ptr<const std::string> key_shared_;  // handed with each store record (no copy per entry)
  std::shared_ptr<const mq::Rule> rule_;     // mu_
  std::shared_ptr<Target> target_;            // mu_
  RunnerLimits limits_;
  DeadLetters* dead_;
  broker::Persistence* const persist_;
  const bool done_now_;  // RuleDone submitted after each delivery, not gathered (the store's rule_hold_ms)
  const std::chrono::steady_clock::duration hold_within_;  // half the store's rule_hold_ms: a slower delivery ends holding
  // One word and a compare-and-swap for the loops' append (common/futex.hpp);
  // the worker's waits go through condition_variable_any, once per batch.
  mutable common::FutexMutex mu_;
  std::condition_variable_any cv_;
  std::deque<Entry> queue_;
  size_t in_flight_ = 0;               // mu_: entries moved out to the target (counted in the backlog)
  bool stopping_ = false, drop_ = false;
  bool idle_ = false;                  // mu_: the worker waits for entries (enqueue wakes it)
  size_t fill_ = 0;                    // mu_: the worker lingers for this many entries (enqueue wakes it then)
  std::atomic<size_t> size_{0};        // queue_.size(), read without the lock (the bound)
  std::atomic<bool> exited_{false};
  std::atomic<bool> keeping_up_{true};  // the last delivery went through, quickly, a small batch (entries may be held for the target)
  // Entries' seq without a store (QoS 0): from the wall clock in ms x 1000, so
  // that it does not start again at 1 after a restart (the NATS target's
  // Nats-Msg-Id would be dropped by JetStream as a duplicate within its window).
  std::atomic<uint64_t> local_seq_{static_cast<uint64_t>(broker::wall_ms()) * 1000};
  std::atomic<uint64_t> enqueued_{0}, delivered_{0}, overflow_{0}, retries_{0}, dead_lettered_{0};
  std::string last_error_;  // mu_
  std::vector<uint64_t> done_;                          // worker thread: delivered, RuleDone not yet submitted
  std::chrono::steady_clock::time_point done_due_{};   // worker thread: when done_ goes to the store
  std::chrono::steady_clock::time_point last_sent_{};  // worker thread: when the last delivery ended
  std::chrono::steady_clock::time_point no_linger_until_{};  // worker thread: lingers gathered nothing; none till then
  int empty_lingers_ = 0;                                     // worker thread: lingers in a row that gathered nothing
  static constexpr int kEmptyLingers = 3;
  std::thread thread_;
};

}  // namespace sluice::rules
