#pragma once
// The broker's durable state in its own SQLite file (<data-dir>/broker.db, WAL),
// written by one writer thread with group commit: event loops append records
// to a queue (one short lock, no disk), the writer takes everything queued and
// applies it in one transaction, then reports the last ticket it made durable
// so deferred PUBACK / PUBREC can go out.
//
// fsync: always  - every commit fsyncs the WAL before its acks go out: an
//                  acknowledged message survives a power cut.
//        batch   - the same guarantee, cheaper: the writer commits to the OS
//                  without fsync and goes on with the next batch while a syncer
//                  thread fdatasyncs the WAL; acks go out once the fdatasync
//                  that covers them returns. Commits made during one fdatasync
//                  share the next (group commit). Records that arrive while
//                  an fdatasync is in flight and the writer has caught up do
//                  not wake it: the syncer wakes it when the fdatasync returns,
//                  and it writes all of them at once. A batch of only rules-log
//                  records, with the syncer idle, the writer fdatasyncs itself
//                  (no hand-off; what arrives meanwhile forms the next batch).
//                  `window_ms` (0..10, default 0): after a quiet spell the
//                  writer waits that long for more records before it writes
//                  and the sync starts (one write and one fdatasync for all).
//                  `rule_hold_ms` (0..1000; 0 here, `[rules] hold_ms` 30
//                  in `sluice serve`): a rule's entry is
//                  kept in memory that long before it is written; if its
//                  target takes it first (a RuleDone arrives), it is never
//                  written, and its ticket counts as durable then: the
//                  acknowledgement waits for the entry on disk or at its
//                  target, whichever comes first (rules.md "Delivered
//                  before written"). Only in batches of only rule records.
//        off     - no fsync, acks do not wait for the writer (a kill -9 loses
//                  what is still queued in memory).
// Commits never wait on purpose: records that arrive while one commit runs
// form the next batch (group commit).
//
// Rules' backlog records (RuleQueued / RuleDone, issue 19) go to an append-only
// file beside it (<path>-rules, rule_log.hpp) in the same batch, synced by the
// same fsync before the batch's tickets are reported durable; a batch of only
// those makes no SQLite transaction at all.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "broker/persistence.hpp"
#include "common/futex.hpp"

namespace sluice::store {
class SqliteDb;
}

namespace sluice::persist {

class RuleLog;

enum class FsyncMode : uint8_t { Always, Batch, Off };
// "always" | "batch" | "off"; false on anything else.
bool parse_fsync_mode(std::string_view s, FsyncMode& out);

struct BrokerStoreOptions {
  FsyncMode fsync = FsyncMode::Batch;
  int window_ms = 0;  // batch mode: how long the writer gathers records after a quiet spell (<= 10)
  // Batch mode: how long a rule's entry waits for its target before it is
  // written (0: written at once; <= 1000). Should exceed the target's linger
  // and round trip, or every entry is written anyway.
  int rule_hold_ms = 0;
  // The rules' backlog file (rule_log.hpp): emptied / compacted past these sizes (0: the defaults).
  uint64_t rule_log_empty_at = 0, rule_log_compact_at = 0;
  // Tests: runs before each fdatasync of a batch, on the syncer or the writer (to hold one in flight).
  std::function<void()> before_sync;
};

struct BrokerStoreStats {
  uint64_t batches = 0, records = 0, cancelled = 0, errors = 0;
};

class BrokerStore final : public broker::Persistence {
 public:
  // Opens or creates the file (throws store::DbError).
  BrokerStore(const std::string& path, BrokerStoreOptions opts);
  ~BrokerStore() override;

  // Reads everything back (before start()). Expired messages and sessions
  // whose expiry passed while the server was down are left to the broker's
  // housekeeping, except expired queued messages, which are deleted here.
  broker::Recovered recover();

  // Starts the writer; `on_durable(ticket)` is called on the writer thread
  // after each commit with the newest ticket now durable.
  void start(std::function<void(uint64_t)> on_durable);
  // Commits what is queued and joins the writer.
  void stop();

  // broker::Persistence
  uint64_t submit(broker::PersistRecord&& r) override;
  uint64_t submit_rule_queued(const std::shared_ptr<const std::string>& rule_key, const broker::MessagePtr& m,
                              bool may_hold) override;
  void submit_rule_done(const uint64_t* seqs, size_t n) override;
  uint64_t new_session_key() override { return next_key_.fetch_add(1); }
  bool acks_wait() const override { return opts_.fsync != FsyncMode::Off; }
  int rule_hold_ms() const override { return opts_.fsync == FsyncMode::Batch ? opts_.rule_hold_ms : 0; }
  uint64_t durable() const override { return durable_.load(); }

  BrokerStoreStats stats() const;

 private:
  void run();
  void sync_loop();  // batch mode: fdatasync what the writer committed, then report it
  void report_durable(uint64_t ticket);
  void wake_writer();  // under mu_
  // A rule's entry (submit_rule_queued): what its RuleQueued record holds.
  struct RuleQueuedRec {
    uint64_t seq;
    std::shared_ptr<const std::string> rule;
    broker::MessagePtr message;
    int64_t taken_ms = 0;  // writer: when it first took the entry (rule_hold_ms)
    bool may_hold = true;  // false: written at once
  };
  // The records queued while the writer worked, taken in one swap.
  struct Batch {
    std::vector<broker::PersistRecord> records;
    std::vector<RuleQueuedRec> rule_queued;  // in seq order
    std::vector<uint64_t> rule_done;
    bool unheld = false;  // an entry submitted with may_hold false
    bool empty() const { return records.empty() && rule_queued.empty() && rule_done.empty(); }
    void swap(Batch& o) {
      records.swap(o.records);
      rule_queued.swap(o.rule_queued);
      rule_done.swap(o.rule_done);
      std::swap(unheld, o.unheld);
    }
    void clear() {
      records.clear();
      rule_queued.clear();
      rule_done.clear();
      unheld = false;
    }
  };
  // Returns which files it wrote (kWroteWal, kWroteRules): what the next sync must cover.
  unsigned apply(Batch& batch);
  static constexpr unsigned kWroteWal = 1, kWroteRules = 2;
  void apply_rules(Batch& batch, const std::unordered_set<uint64_t>& cancelled);
  // rule_hold_ms: the batch's entries join those held; RuleDone of any of
  // them cancels both; with `keep`, entries not yet due stay held (the rest
  // stay in the batch, to be written). Returns the newest ticket the batch
  // makes durable: `last`, or just below the oldest entry still held.
  uint64_t hold_rules(Batch& batch, uint64_t last, bool keep, int64_t now_ms);
  static size_t drop_delivered(std::vector<RuleQueuedRec>& entries, std::vector<uint64_t>& done);

  BrokerStoreOptions opts_;
  std::unique_ptr<store::SqliteDb> db_;
  struct Statements;
  std::unique_ptr<Statements> st_;
  // Issue 19: RuleQueued / RuleDone go to <path>-rules, not to a table (rule_log.hpp).
  std::unique_ptr<RuleLog> rules_;
  std::vector<uint64_t> table_done_;  // writer: RuleDone of rows in the old rule_queue table
  // Writer: what a batch with an end in it cancels (apply()).
  struct Ends {
    std::unordered_set<uint64_t> queued, cancelled, armed, disarmed;
  } ends_;

  // One word (common::FutexMutex): the loops take it for every durable record
  // (a QoS 1 rule entry, a persistent session's copy), where
  // pthread_mutex_lock + unlock cost ~60 instructions a message (callgrind,
  // issue 19); the writer's and the syncer's waits go through
  // condition_variable_any.
  common::FutexMutex mu_;
  std::atomic<uint32_t> wake_{0};    // the writer waits for records: bumped to wake it
  bool writer_asleep_ = false;       // under mu_: the writer waits on wake_
  // Under mu_: the writer waits on wake_ until its oldest held entry is due;
  // a RuleDone or another record wakes it, a RuleQueued does not.
  bool writer_holding_ = false;
  // Writer: entries not yet written (rule_hold_ms), in seq order; one
  // dropped (delivered) within a batch has no message.
  std::vector<RuleQueuedRec> held_;
  std::condition_variable_any sync_cv_;  // the syncer waits for its next window
  Batch queue_;
  uint64_t next_ticket_ = 1;  // under mu_
  bool stopping_ = false;       // the writer stops
  bool sync_stopping_ = false;  // then the syncer
  std::atomic<uint64_t> durable_{0};
  std::atomic<uint64_t> next_key_{1};
  std::function<void(uint64_t)> on_durable_;
  std::thread writer_;
  std::thread syncer_;
  std::string wal_path_;
  uint64_t committed_ = 0;  // under mu_, batch mode: newest ticket committed to the OS
  uint64_t synced_ = 0;     // under mu_, batch mode: newest ticket fdatasynced and reported
  unsigned unsynced_ = 0;   // under mu_, batch mode: files written since the syncer last took a target
  bool sync_idle_ = false;  // under mu_: the syncer waits for a commit
  // Under mu_, batch mode: the syncer has taken a target and not yet reported
  // it; a sleeping writer is then left asleep by submits (the syncer wakes it).
  bool sync_busy_ = false;
  bool woken_by_sync_ = false;  // under mu_: the writer's wake-up came from the syncer
  std::condition_variable_any window_cv_;  // the writer's window (window_ms), cut short by stop()

  struct {
    std::atomic<uint64_t> batches{0}, records{0}, cancelled{0}, errors{0};
  } stats_;
};

}  // namespace sluice::persist
