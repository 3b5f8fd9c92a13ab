#include "rules/rule_runner.hpp"

#include <algorithm>
#include <chrono>

#include "common/log.hpp"
#include "rules/dead_letters.hpp"

namespace sluice::rules {

RuleRunner::RuleRunner(mq::Rule rule, std::unique_ptr<Target> target, RunnerLimits limits, DeadLetters* dead,
                       broker::Persistence* persist)
    : key_(rule.key()),
      key_shared_(std::make_shared<const std::string>(key_)),
      rule_(std::make_shared<const mq::Rule>(std::move(rule))),
      target_(std::move(target)),
      limits_(limits),
      dead_(dead),
      persist_(persist),
      // The store holds entries for their target: each RuleDone goes at once,
      // so that a delivered entry is cancelled before it is written.
      done_now_(persist && persist->rule_hold_ms() > 0),
      hold_within_(std::chrono::milliseconds(persist ? persist->rule_hold_ms() : 0) / 2) {}

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
    // Held for the target (the store's rule_hold_ms) only while it keeps up
    // (run()): an entry behind a backlog or a failing target would be written
    // anyway, after its PUBACK had waited the hold for nothing.
    seq = persist_->submit_rule_queued(key_shared_, m,
                                       done_now_ && keeping_up_.load(std::memory_order_relaxed) &&
                                           size_.load(std::memory_order_relaxed) < kHoldBatchBelow);
  } else {
    seq = kUnrecorded | local_seq_.fetch_add(1, std::memory_order_relaxed);
  }
  bool wake;
  {
    std::lock_guard lk(mu_);
    queue_.push_back(Entry{seq, m});
    const size_t n = queue_.size();  // once: a deque's size() is ~12 instructions of node arithmetic
    size_.store(n + in_flight_, std::memory_order_relaxed);
    // The worker sleeps (idle), or lingers for a batch that is now full.
    wake = idle_ || (fill_ != 0 && n >= fill_);
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

void RuleRunner::done(const std::vector<uint64_t>& seqs) {
  if (!persist_ || seqs.empty()) return;
  for (uint64_t seq : seqs)
    if (!(seq & kUnrecorded)) {
      if (done_.empty()) done_due_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(limits_.done_delay_ms);
      done_.push_back(seq);
    }
  if (done_now_ || done_.size() >= limits_.done_batch || limits_.done_delay_ms <= 0) flush_done();
}

void RuleRunner::flush_done() {
  // In one call: the store's writer takes them in one batch and writes one
  // record for all of them (rule_log.hpp 'M'), not one each.
  if (!persist_ || done_.empty()) return;
  persist_->submit_rule_done(done_.data(), done_.size());
  done_.clear();
}

bool RuleRunner::lingers(std::chrono::milliseconds linger) const {
  const auto now = std::chrono::steady_clock::now();
  return now - last_sent_ < linger && now >= no_linger_until_;
}

void RuleRunner::run() {
  int backoff = limits_.backoff_min_ms;
  int rejects = 0;
  size_t one_by_one = 0;  // after a refused batch: its entries one at a time, to find the refused one
  std::vector<Entry> batch;
  std::vector<uint64_t> finished;
  std::unique_lock lk(mu_);
  const auto has_work = [&] { return stopping_ || !queue_.empty(); };
  for (;;) {
    idle_ = true;
    if (done_.empty()) {
      cv_.wait(lk, has_work);
    } else if (!cv_.wait_until(lk, done_due_, has_work)) {
      idle_ = false;
      lk.unlock();
      flush_done();  // the rule went quiet: its RuleDone records go now
      lk.lock();
      continue;
    }
    idle_ = false;
    if (stopping_) break;
    std::shared_ptr<Target> target = target_;
    std::shared_ptr<const mq::Rule> rule = rule_;
    // What the backlog holds now, up to the target's batch. A target with a
    // linger waits up to that long for the batch to fill, but only while the
    // rule is busy (its last delivery ended less than a linger ago): an entry
    // after a quiet spell goes at once. Enqueue wakes the worker only when the
    // batch is full, so a steady stream costs no wake-up per entry.
    const size_t want = one_by_one > 0 ? 1 : std::max<size_t>(1, std::min(target->max_batch(), limits_.max_batch));
    // Lingers that gathered nothing, kEmptyLingers in a row, are not
    // repeated for a second: a single synchronous publisher (one message in
    // flight, the next sent after its PUBACK) sends nothing while the worker
    // waits, and when the store holds entries for their target
    // (rule_hold_ms) its PUBACK waits for the delivery: each message would
    // wait a whole linger for nothing. Not after one: a steady stream can
    // pause for a linger (its publishers descheduled on a busy machine), and
    // a second without lingering would send it one POST per entry.
    if (const auto linger = std::chrono::milliseconds(target->linger_ms());
        linger.count() > 0 && want > 1 && queue_.size() < want && lingers(linger)) {
      fill_ = want;
      const size_t before = queue_.size();
      cv_.wait_for(lk, linger, [&] { return stopping_ || target_ != target || queue_.size() >= want; });
      fill_ = 0;
      if (stopping_) break;
      if (target_ != target) continue;
      if (queue_.size() != before) {
        empty_lingers_ = 0;
      } else if (++empty_lingers_ >= kEmptyLingers) {
        empty_lingers_ = 0;
        no_linger_until_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      }
    }
    // The batch is moved out of the backlog (no reference counts touched per
    // entry); what the target does not take goes back to the front below.
    batch.clear();
    for (size_t n = std::min(want, queue_.size()); n > 0; --n) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    in_flight_ = batch.size();
    lk.unlock();
    std::string error;
    Outcome o = Outcome::Retry;
    size_t taken = 0;
    bool lettered = false;
    const auto sent_at = std::chrono::steady_clock::now();
    try {
      taken = batch.size() == 1 ? ((o = target->deliver(batch[0], error)) == Outcome::Delivered ? 1 : 0)
                                : target->deliver_batch(batch, o, error);
    } catch (const std::exception& ex) {
      o = Outcome::Retry;
      error = ex.what();
      taken = 0;
    }
    taken = std::min(taken, batch.size());
    last_sent_ = std::chrono::steady_clock::now();
    if (o == Outcome::Reject && taken == 0 && batch.size() > 1) {
      // A batch refused as a whole: which entry? Its entries go one at a time
      // (at once, no backoff), so the refused one is found and dead-lettered.
      one_by_one = batch.size();
      lk.lock();
      put_back(batch, 0);
      continue;
    }
    if (taken > 0) rejects = 0;  // a refusal after progress is of a new entry
    if (o == Outcome::Reject && taken < batch.size() && ++rejects >= limits_.reject_attempts) {
      const Entry& bad = batch[taken];
      if (dead_) dead_->record(*rule, bad, error);
      log::warn("rules: {} refused entry {} ({}): dead-lettered", rule->name, bad.seq, error);
      dead_lettered_.fetch_add(1, std::memory_order_relaxed);
      ++taken;  // gone from the backlog, kept in the dead-letter file
      lettered = true;
      if (taken == batch.size()) o = Outcome::Delivered;
    }
    one_by_one -= std::min(one_by_one, taken);
    const uint64_t delivered = lettered ? taken - 1 : taken;
    finished.clear();
    for (size_t i = 0; i < taken; ++i)  // those the store recorded (not QoS 0's)
      if (!(batch[i].seq & kUnrecorded)) finished.push_back(batch[i].seq);
    lk.lock();
    put_back(batch, taken);
    lk.unlock();
    batch.clear();  // the delivered messages released outside the lock
    if (taken > 0) {
      done(finished);  // one run of RuleDone records: one commit of the store's writer
      delivered_.fetch_add(delivered, std::memory_order_relaxed);
    }
    // Keeping up: the delivery went through, took less than half the hold,
    // and its batch was small. While entries are held, a publisher's PUBACK
    // waits for the target instead of an fdatasync: worth it while the target
    // takes entries well within the hold (the store then writes nothing); not
    // for a target slower than that (entries would be written after the hold
    // anyway), nor once batches of kHoldBatchBelow form (more than ~1,600
    // entries a second at a 20 ms linger, or a target that is the bottleneck:
    // publishers with a few messages in flight would be paced by its round
    // trips, a JetStream stream under a closed loop delivered half as much,
    // docs/benchmarks.md rules-19g; at such rates the store's own batches
    // make writing cheap).
    keeping_up_.store(o == Outcome::Delivered && taken < kHoldBatchBelow && last_sent_ - sent_at < hold_within_,
                      std::memory_order_relaxed);
    lk.lock();
    if (o == Outcome::Delivered) {
      backoff = limits_.backoff_min_ms;
      rejects = 0;
      continue;
    }
    retries_.fetch_add(1, std::memory_order_relaxed);
    if (!done_.empty()) {  // not held through a backoff
      lk.unlock();
      flush_done();
      lk.lock();
    }
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
    finished.clear();
    for (const auto& e : left) finished.push_back(e.seq);
    done(finished);
  } else {
    lk.unlock();
  }
  flush_done();
  exited_.store(true);
}

// Under mu_: the batch's entries from `taken` on back at the backlog's front,
// in order (only the broker loops append, and only at the back).
void RuleRunner::put_back(std::vector<Entry>& batch, size_t taken) {
  for (size_t i = batch.size(); i > taken; --i) queue_.push_front(std::move(batch[i - 1]));
  batch.resize(std::min(taken, batch.size()));  // the taken ones: released by the caller, outside the lock
  in_flight_ = 0;
  size_.store(queue_.size(), std::memory_order_relaxed);
}

RunnerStats RuleRunner::stats() const {
  RunnerStats s;
  s.enqueued = enqueued_.load();
  s.delivered = delivered_.load();
  s.overflow = overflow_.load();
  s.retries = retries_.load();
  s.dead_lettered = dead_lettered_.load();
  std::lock_guard lk(mu_);
  s.backlog = queue_.size() + in_flight_;
  s.last_error = last_error_;
  return s;
}

}  // namespace sluice::rules
