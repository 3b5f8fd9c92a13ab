#include "rules/rule_runner.hpp"

#include <algorithm>
#include <chrono>

#include "common/log.hpp"
#include "rules/dead_letters.hpp"

namespace sluice::rules {

RuleRunner::RuleRunner(mq::Rule rule, std::unique_ptr<Target> target, RunnerLimits limits, DeadLetters* dead,
                       broker::Persistence* persist)
    : key_(rule.key()),
      rule_(std::make_shared<const mq::Rule>(std::move(rule))),
      target_(std::move(target)),
      limits_(limits),
      dead_(dead),
      persist_(persist) {}

RuleRunner::~RuleRunner() {
  stop(false);
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const mq::Rule> RuleRunner::rule() const {
  std::lock_guard lk(mu_);
  return rule_;
}

void RuleRunner::replace(mq::Rule rule, std::unique_ptr<Target> target) {
  std::lock_guard lk(mu_);
  rule_ = std::make_shared<const mq::Rule>(std::move(rule));
  target_ = std::move(target);
  cv_.notify_all();  // a retry waiting on the old target tries the new one at once
}

uint64_t RuleRunner::enqueue(const broker::MessagePtr& m) {
  // The publishing loop's whole cost: a size check without a lock, one store
  // submit (QoS 1/2), one short lock, and a wake-up only if the worker sleeps.
  if (size_.load(std::memory_order_relaxed) >= limits_.max_backlog) {
    overflow_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  // QoS 0 is at most once in MQTT: kept in memory only (no disk write per
  // message); its seq has bit 63 set so it never meets a store ticket.
  const bool record = persist_ && m->qos > 0;
  uint64_t seq;
  if (record) {
    broker::PersistRecord r{broker::PersistRecord::Kind::RuleQueued};
    r.text = key_;
    r.message = m;
    seq = persist_->submit(std::move(r));
  } else {
    seq = kUnrecorded | local_seq_.fetch_add(1, std::memory_order_relaxed);
  }
  bool wake;
  {
    std::lock_guard lk(mu_);
    queue_.push_back(Entry{seq, m});
    size_.store(queue_.size(), std::memory_order_relaxed);
    wake = idle_;
  }
  enqueued_.fetch_add(1, std::memory_order_relaxed);
  if (wake) cv_.notify_one();
  return record ? seq : 0;
}

void RuleRunner::restore(std::vector<Entry>&& entries) {
  std::lock_guard lk(mu_);
  for (auto& e : entries) queue_.push_back(std::move(e));
  std::sort(queue_.begin(), queue_.end(), [](const Entry& a, const Entry& b) { return a.seq < b.seq; });
  size_.store(queue_.size(), std::memory_order_relaxed);
}

void RuleRunner::start() { thread_ = std::thread([this] { run(); }); }

void RuleRunner::stop(bool drop) {
  std::lock_guard lk(mu_);
  stopping_ = true;
  drop_ = drop_ || drop;
  cv_.notify_all();
}

void RuleRunner::done(const Entry& e) {
  if (!persist_ || (e.seq & kUnrecorded)) return;
  broker::PersistRecord r{broker::PersistRecord::Kind::RuleDone};
  r.seq = e.seq;
  persist_->submit(std::move(r));
}

void RuleRunner::run() {
  int backoff = limits_.backoff_min_ms;
  int rejects = 0;
  std::unique_lock lk(mu_);
  for (;;) {
    idle_ = true;
    cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    idle_ = false;
    if (stopping_) break;
    const Entry e = queue_.front();
    std::shared_ptr<Target> target = target_;
    std::shared_ptr<const mq::Rule> rule = rule_;
    lk.unlock();
    std::string error;
    Outcome o;
    try {
      o = target->deliver(e, error);
    } catch (const std::exception& ex) {
      o = Outcome::Retry;
      error = ex.what();
    }
    if (o == Outcome::Reject && ++rejects >= limits_.reject_attempts) {
      if (dead_) dead_->record(*rule, e, error);
      log::warn("rules: {} refused entry {} ({}): dead-lettered", rule->name, e.seq, error);
      dead_lettered_.fetch_add(1, std::memory_order_relaxed);
      o = Outcome::Delivered;  // gone from the backlog, kept in the dead-letter file
    }
    lk.lock();
    if (o == Outcome::Delivered) {
      if (!queue_.empty() && queue_.front().seq == e.seq) queue_.pop_front();
      size_.store(queue_.size(), std::memory_order_relaxed);
      lk.unlock();
      done(e);
      if (error.empty()) delivered_.fetch_add(1, std::memory_order_relaxed);
      backoff = limits_.backoff_min_ms;
      rejects = 0;
      lk.lock();
      continue;
    }
    retries_.fetch_add(1, std::memory_order_relaxed);
    if (last_error_ != error) {
      log::warn("rules: {}: {} (retrying)", rule->name, error);
      last_error_ = error;
    }
    // A replaced target or a stop ends the wait early.
    cv_.wait_for(lk, std::chrono::milliseconds(backoff), [&] { return stopping_ || target_ != target; });
    backoff = std::min(backoff * 2, limits_.backoff_max_ms);
  }
  if (drop_) {
    std::deque<Entry> left;
    left.swap(queue_);
    size_.store(0, std::memory_order_relaxed);
    lk.unlock();
    for (const auto& e : left) done(e);
  }
  exited_.store(true);
}

RunnerStats RuleRunner::stats() const {
  RunnerStats s;
  s.enqueued = enqueued_.load();
  s.delivered = delivered_.load();
  s.overflow = overflow_.load();
  s.retries = retries_.load();
  s.dead_lettered = dead_lettered_.load();
  std::lock_guard lk(mu_);
  s.backlog = queue_.size();
  s.last_error = last_error_;
  return s;
}

}  // namespace sluice::rules
