#include "persist/broker_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "broker/clock.hpp"
#include "common/log.hpp"
#include "store/sqlite_db.hpp"
#include "persist/message_codec.hpp"
#include "common/futex.hpp"
#include "persist/rule_log.hpp"

namespace sluice::persist {

using broker::PersistRecord;
using store::Blob;
using store::Stmt;
using store::Transaction;
using Kind = broker::PersistRecord::Kind;

bool parse_fsync_mode(std::string_view s, FsyncMode& out) {
  if (s == "always") out = FsyncMode::Always;
  else if (s == "batch") out = FsyncMode::Batch;
  else if (s == "off") out = FsyncMode::Off;
  else return false;
  return true;
}

namespace {

// One table per kind of state; queued messages carry their message inline
// (a message fanned out to N persistent sessions is written N times: simple,
// and the common case, one offline subscriber per message, pays no join).
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS sessions(
  key INTEGER PRIMARY KEY, ns TEXT NOT NULL, client_id TEXT NOT NULL,
  expiry_s INTEGER NOT NULL, offline_at INTEGER NOT NULL DEFAULT 0,
  will BLOB, will_due INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS subscriptions(
  key INTEGER NOT NULL, filter TEXT NOT NULL, qos INTEGER NOT NULL, flags INTEGER NOT NULL,
  sub_id INTEGER NOT NULL, PRIMARY KEY(key, filter)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue(
  seq INTEGER PRIMARY KEY, key INTEGER NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,
  sub_id INTEGER NOT NULL, packet_id INTEGER NOT NULL DEFAULT 0,
  released INTEGER NOT NULL DEFAULT 0, message BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS queue_key ON queue(key);
CREATE TABLE IF NOT EXISTS incoming_qos2(
  key INTEGER NOT NULL, packet_id INTEGER NOT NULL, PRIMARY KEY(key, packet_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS retained(
  ns TEXT NOT NULL, topic TEXT NOT NULL, message BLOB NOT NULL, PRIMARY KEY(ns, topic)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rule_queue(
  seq INTEGER PRIMARY KEY, rule TEXT NOT NULL, message BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS live_wills(
  key INTEGER PRIMARY KEY, ns TEXT NOT NULL, client_id TEXT NOT NULL, delay_s INTEGER NOT NULL,
  message BLOB NOT NULL);
)";

uint8_t sub_flags(const broker::SubOptions& o) {
  return uint8_t((o.no_local ? 1 : 0) | (o.retain_as_published ? 2 : 0) | ((o.retain_handling & 3) << 2));
}

}  // namespace

// Prepared once: the writer runs the same few statements many thousand times a second.
struct BrokerStore::Statements {
  explicit Statements(store::Db& db)
      : session_save(db.prepare(
            "INSERT INTO sessions(key, ns, client_id, expiry_s, offline_at) VALUES(?,?,?,?,0) "
            "ON CONFLICT(key) DO UPDATE SET expiry_s = excluded.expiry_s, offline_at = 0")),
        session_offline(db.prepare("UPDATE sessions SET offline_at = ? WHERE key = ?")),
        session_del(db.prepare("DELETE FROM sessions WHERE key = ?")),
        session_subs_del(db.prepare("DELETE FROM subscriptions WHERE key = ?")),
        session_queue_del(db.prepare("DELETE FROM queue WHERE key = ?")),
        session_qos2_del(db.prepare("DELETE FROM incoming_qos2 WHERE key = ?")),
        sub_add(db.prepare("INSERT OR REPLACE INTO subscriptions VALUES(?,?,?,?,?)")),
        sub_del(db.prepare("DELETE FROM subscriptions WHERE key = ? AND filter = ?")),
        msg_add(db.prepare("INSERT OR REPLACE INTO queue(seq, key, qos, retain, sub_id, message) VALUES(?,?,?,?,?,?)")),
        msg_state(db.prepare("UPDATE queue SET packet_id = ?, released = ? WHERE seq = ?")),
        msg_del(db.prepare("DELETE FROM queue WHERE seq = ?")),
        qos2_add(db.prepare("INSERT OR IGNORE INTO incoming_qos2 VALUES(?,?)")),
        qos2_del(db.prepare("DELETE FROM incoming_qos2 WHERE key = ? AND packet_id = ?")),
        retained_set(db.prepare("INSERT OR REPLACE INTO retained VALUES(?,?,?)")),
        retained_del(db.prepare("DELETE FROM retained WHERE ns = ? AND topic = ?")),
        will_set(db.prepare("UPDATE sessions SET will = ?, will_due = ? WHERE key = ?")),
        will_del(db.prepare("UPDATE sessions SET will = NULL, will_due = 0 WHERE key = ?")),
        live_will_add(db.prepare("INSERT OR REPLACE INTO live_wills VALUES(?,?,?,?,?)")),
        live_will_del(db.prepare("DELETE FROM live_wills WHERE key = ?")),
        rule_del(db.prepare("DELETE FROM rule_queue WHERE seq = ?")) {}
  Stmt session_save, session_offline, session_del, session_subs_del, session_queue_del,
      session_qos2_del, sub_add, sub_del, msg_add, msg_state, msg_del, qos2_add, qos2_del,
      retained_set, retained_del, will_set, will_del, live_will_add, live_will_del, rule_del;
};

BrokerStore::BrokerStore(const std::string& path, BrokerStoreOptions opts) : opts_(opts) {
  if (opts_.window_ms < 0) opts_.window_ms = 0;
  if (opts_.window_ms > 10) opts_.window_ms = 10;
  opts_.rule_hold_ms = std::clamp(opts_.rule_hold_ms, 0, 1000);
  db_ = store::SqliteDb::open(path);
  wal_path_ = path + "-wal";
  // always: FULL, each commit fsyncs the WAL. batch: NORMAL, a commit is a write()
  // to the WAL (the syncer fsyncs it); off: never any fsync.
  db_->exec(opts_.fsync == FsyncMode::Always  ? "PRAGMA synchronous=FULL"
            : opts_.fsync == FsyncMode::Batch ? "PRAGMA synchronous=NORMAL"
                                              : "PRAGMA synchronous=OFF");
  db_->exec("PRAGMA foreign_keys=OFF");
  db_->exec(kSchema);
  st_ = std::make_unique<Statements>(*db_);
  // Tickets double as queue sequence numbers: continue after the highest stored.
  auto q = db_->query("SELECT MAX(COALESCE((SELECT MAX(seq) FROM queue), 0), "
                      "COALESCE((SELECT MAX(seq) FROM rule_queue), 0))");
  if (q.step()) next_ticket_ = uint64_t(q.int64(0)) + 1;
  RuleLogOptions ro;
  if (opts_.rule_log_empty_at) ro.empty_at = opts_.rule_log_empty_at;
  if (opts_.rule_log_compact_at) ro.compact_at = opts_.rule_log_compact_at;
  rules_ = std::make_unique<RuleLog>(path + "-rules", ro);
  next_ticket_ = std::max(next_ticket_, rules_->max_seq() + 1);
  // Not below the wall clock in ms x 1000 either: a rule entry delivered
  // before it was written (cancelled in its batch, or within rule_hold_ms)
  // left no record of its seq, and a seq used again after a restart would be
  // dropped as a duplicate by a receiver or by JetStream (Nats-Msg-Id). Up to
  // a million tickets a second stay ahead of the last run's; QoS 0 entries
  // count the same way with bit 63 set (rules/rule_runner.hpp).
  next_ticket_ = std::max<uint64_t>(next_ticket_, static_cast<uint64_t>(broker::wall_ms()) * 1000);
  // Session keys and live-will keys come from one counter (new_session_key).
  auto k = db_->query("SELECT MAX(COALESCE((SELECT MAX(key) FROM sessions), 0), "
                      "COALESCE((SELECT MAX(key) FROM live_wills), 0))");
  if (k.step()) next_key_ = uint64_t(k.int64(0)) + 1;
  durable_ = next_ticket_ - 1;
  committed_ = synced_ = durable_;
}

BrokerStore::~BrokerStore() { stop(); }

uint64_t BrokerStore::submit(PersistRecord&& r) {
  std::lock_guard lock(mu_);
  const uint64_t t = next_ticket_++;
  if (r.kind == Kind::MessageQueued || r.kind == Kind::RuleQueued) r.seq = t;
  queue_.records.push_back(std::move(r));
  if ((writer_asleep_ || writer_holding_) && !sync_busy_) wake_writer();  // during an fdatasync: the syncer wakes it after
  return t;
}

// A rule's entry: three words in the writer's next batch (no PersistRecord
// built, moved and destroyed, no copy of the rule's key).
uint64_t BrokerStore::submit_rule_queued(const std::shared_ptr<const std::string>& rule_key,
                                         const broker::MessagePtr& m, bool may_hold) {
  std::lock_guard lock(mu_);
  const uint64_t t = next_ticket_++;
  queue_.rule_queued.push_back(RuleQueuedRec{t, rule_key, m, 0, may_hold});
  // A holding writer is not woken for an entry it may hold too (it would wake
  // per message for nothing), only for one to be written at once.
  if (!may_hold) queue_.unheld = true;
  if ((writer_asleep_ || (writer_holding_ && !may_hold)) && !sync_busy_) wake_writer();  // during an fdatasync: the syncer wakes it after
  return t;
}

void BrokerStore::submit_rule_done(const uint64_t* seqs, size_t n) {
  if (n == 0) return;
  std::lock_guard lock(mu_);
  queue_.rule_done.insert(queue_.rule_done.end(), seqs, seqs + n);
  // A holding writer too: the entries it holds may now be cancelled and their
  // acknowledgements released.
  if ((writer_asleep_ || writer_holding_) && !sync_busy_) wake_writer();  // during an fdatasync: the syncer wakes it after
}

void BrokerStore::start(std::function<void(uint64_t)> on_durable) {
  on_durable_ = std::move(on_durable);
  writer_ = std::thread([this] { run(); });
  if (opts_.fsync == FsyncMode::Batch) syncer_ = std::thread([this] { sync_loop(); });
}

// Under mu_. The writer sleeps on wake_ (a futex), not on a condition
// variable: waking it is one increment and one futex call, where
// pthread_cond_signal cost the publishing loop ~300 instructions per QoS 1
// message of a rule (callgrind, issue 19; at a steady rate every record
// starts a batch, so every one wakes the writer). A raw futex, not
// std::atomic::wait, whose spinning before it sleeps cost the writer ~250 more.
void BrokerStore::wake_writer() {
  writer_asleep_ = writer_holding_ = false;
  wake_.fetch_add(1);
  common::futex_wake_one(wake_);  // a writer not yet asleep sees wake_ changed and does not sleep
}

void BrokerStore::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_writer();
  }
  window_cv_.notify_all();
  if (writer_.joinable()) writer_.join();  // commits what is queued
  {
    std::lock_guard lock(mu_);
    sync_stopping_ = true;  // only now: the syncer still fsyncs the writer's last commit
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
}

void BrokerStore::sync_loop() {
  // fsync applies to the file, not the descriptor: our own read-only descriptor
  // of the WAL flushes what SQLite's connection wrote through its own.
  //
  // Group commit in two stages: while this thread waits on one fdatasync, a
  // busy writer keeps committing the next batches to the OS; the next
  // fdatasync then covers all of them at once. A writer that has caught up is
  // not woken by records arriving during the fdatasync (sync_busy_): they
  // gather in the queue and this thread wakes the writer once it returns, so
  // they make one batch, one write() and one wake-up, not one each (issue 19:
  // at a steady rate each QoS 1 rule entry was a batch of its own, ~1,600
  // instructions of the writer per message; an fdatasync on this machine's
  // disk takes 0.3-4 ms). Those records' write moves from during the
  // fdatasync to just after it; their own fdatasync could not start before it
  // returned anyway. (A batch of only rule records the writer usually syncs
  // itself: run().)
  int fd = -1;
  std::unique_lock lock(mu_);
  for (;;) {
    sync_busy_ = false;
    if ((writer_asleep_ || writer_holding_) && !queue_.empty()) {  // what gathered during the fdatasync
      woken_by_sync_ = true;
      wake_writer();
    }
    sync_idle_ = true;
    sync_cv_.wait(lock, [&] { return sync_stopping_ || committed_ != synced_; });
    sync_idle_ = false;
    if (committed_ == synced_) break;  // stopping, nothing left to sync
    sync_busy_ = true;
    const uint64_t target = committed_;  // everything the writer committed up to now
    const unsigned wrote = unsynced_;
    unsynced_ = 0;
    lock.unlock();
    if (opts_.before_sync) opts_.before_sync();
    // Only the files written since the last sync: a batch of only rule records
    // made no SQLite commit, and one of only SQL records wrote no rules log
    // (at a steady rate each QoS 1 entry of a rule is its own batch: one
    // fdatasync and its system-call wrapping instead of two).
    if ((wrote & kWroteWal) && fd < 0) fd = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (((wrote & kWroteWal) && (fd < 0 || ::fdatasync(fd) != 0)) || ((wrote & kWroteRules) && !rules_->sync())) {
      // Acks are released anyway (the commit did reach the OS); counted, logged.
      log::warn("broker store: fdatasync of the WAL or the rules log failed");
      stats_.errors.fetch_add(1, std::memory_order_relaxed);
    }
    report_durable(target);
    lock.lock();
    synced_ = target;
  }
  lock.unlock();
  if (fd >= 0) ::close(fd);
}

void BrokerStore::report_durable(uint64_t ticket) {
  durable_.store(ticket);
  if (on_durable_) on_durable_(ticket);
}

// RuleDone of an entry in `entries` (in seq order): the entry was at its
// target before it was written; it is dropped (message released, the caller
// skips it) and its seq leaves `done`, so neither record is written. What stays
// in `done` are entries already written: their RuleDone is written too. Each
// runner's RuleDone come in seq order: one walk, no search per seq. Returns
// how many were dropped.
size_t BrokerStore::drop_delivered(std::vector<RuleQueuedRec>& entries, std::vector<uint64_t>& done) {
  if (entries.empty() || done.empty()) return 0;
  if (!std::is_sorted(done.begin(), done.end())) std::sort(done.begin(), done.end());
  size_t i = 0, kept = 0, n = 0;
  for (uint64_t seq : done) {
    while (i < entries.size() && entries[i].seq < seq) ++i;
    if (i < entries.size() && entries[i].seq == seq && entries[i].message) {
      entries[i].message.reset();
      entries[i].rule.reset();
      ++n;
      ++i;
    } else {
      done[kept++] = seq;
    }
  }
  done.resize(kept);
  return n;
}

uint64_t BrokerStore::hold_rules(Batch& b, uint64_t last, bool keep, int64_t now_ms) {
  // The batch's entries join the held ones (their seqs are all higher: the
  // vector stays in seq order).
  for (RuleQueuedRec& r : b.rule_queued) {
    r.taken_ms = now_ms;
    held_.push_back(std::move(r));
  }
  b.rule_queued.clear();
  // RuleDone of a held entry: at its target before it was written.
  if (const size_t n = drop_delivered(held_, b.rule_done)) stats_.cancelled.fetch_add(n, std::memory_order_relaxed);
  // Dropped entries go; entries due (held a whole rule_hold_ms, not to be
  // held at all, or all of them without `keep`) move to the batch to be
  // written; the rest stay, in order. The oldest kept one bounds the tickets
  // reported: its own and later ones wait.
  const int64_t hold = opts_.rule_hold_ms;
  size_t w = 0;
  for (size_t h = 0; h < held_.size(); ++h) {
    RuleQueuedRec& r = held_[h];
    if (!r.message) continue;
    if (!keep || !r.may_hold || r.taken_ms + hold <= now_ms) {
      b.rule_queued.push_back(std::move(r));
    } else {
      if (w != h) held_[w] = std::move(r);
      ++w;
    }
  }
  held_.resize(w);
  return w == 0 ? last : held_[0].seq - 1;
}

void BrokerStore::run() {
  Batch batch;
  const int64_t hold = opts_.fsync == FsyncMode::Batch ? opts_.rule_hold_ms : 0;
  const auto window = std::chrono::milliseconds(opts_.fsync == FsyncMode::Batch ? opts_.window_ms : 0);
  bool quiet = true;  // the writer slept (or just started) before this batch's first record
  uint64_t synced_here = 0;  // the last batch this thread fdatasynced itself (0: none since)
  for (;;) {
    uint64_t last;
    bool stop_seen;
    {
      std::unique_lock lock(mu_);
      if (synced_here != 0) {
        committed_ = synced_ = synced_here;
        synced_here = 0;
      }
      // Records to take, or held entries due (rule_hold_ms). While entries
      // are held, new RuleQueued records alone do not start a batch (they are
      // held too, and the writer would wake per message for nothing): a
      // RuleDone, another record, the oldest held entry's time or stop does.
      for (;;) {
        if (stopping_) break;
        int64_t wait_ms = -1;  // -1: until woken
        if (!held_.empty()) {
          wait_ms = held_.front().taken_ms + hold - broker::now_ms();
          if (wait_ms <= 0 || !queue_.records.empty() || !queue_.rule_done.empty() || queue_.unheld) break;
        } else if (!queue_.empty()) {
          break;
        }
        const uint32_t seen = wake_.load();
        if (wait_ms < 0) {
          quiet = true;
          writer_asleep_ = true;
        } else {
          writer_holding_ = true;
        }
        lock.unlock();
        // Returns once wake_ differs from `seen` (or spuriously: the loop checks).
        if (wait_ms < 0) common::futex_wait(wake_, seen);
        else common::futex_wait_for(wake_, seen, wait_ms);
        lock.lock();
        writer_asleep_ = writer_holding_ = false;
      }
      if (queue_.empty() && held_.empty() && stopping_) return;
      // The window (batch mode): after a quiet spell, records that follow the
      // first within window_ms share its batch, its write() and its fdatasync;
      // loops do not wake a writer that is not asleep. Not after a wake by the
      // syncer: those records already waited for an fdatasync.
      if (window.count() > 0 && quiet && held_.empty() && !woken_by_sync_ && !stopping_)
        window_cv_.wait_for(lock, window, [&] { return stopping_; });
      woken_by_sync_ = false;
      quiet = false;
      batch.swap(queue_);
      last = next_ticket_ - 1;
      stop_seen = stopping_;
    }
    // Entries held for their target (rule_hold_ms): only in a batch of only
    // rule records (another record's ticket would wait behind the held ones)
    // and not at stop (everything held is written).
    if (hold > 0) last = hold_rules(batch, last, batch.records.empty() && !stop_seen, broker::now_ms());
    const unsigned wrote = apply(batch);
    batch.clear();
    if (opts_.fsync != FsyncMode::Batch) {
      report_durable(last);  // always: the commit was fsynced; off: nobody waits
      continue;
    }
    bool wake_syncer;
    {
      std::unique_lock lock(mu_);
      // Nothing written at all (every entry of the batch delivered before it
      // was written, or still held) and nothing waiting for an fdatasync:
      // the tickets are reported here, with no sync.
      if (last == committed_ && wrote == 0) continue;  // entries held, none resolved: nothing to report
      if (last != committed_ && wrote == 0 && unsynced_ == 0 && sync_idle_ && committed_ == synced_) {
        lock.unlock();
        report_durable(last);
        synced_here = last;
        continue;
      }
      // New tickets in a batch that wrote only the rules log, with the syncer
      // idle and everything before them synced: this thread fdatasyncs the
      // log itself and reports them (issue 19: at a steady rate each QoS 1
      // rule entry is such a batch; handing it to the syncer cost a condition
      // variable's signal here and the syncer's wake-up, locks and wait there,
      // ~500 instructions a message). Records arriving meanwhile gather for
      // the next batch, as during the syncer's fdatasync. The syncer stays
      // for SQLite commits, whose fdatasync overlaps the next commit.
      if (last != committed_ && (wrote | unsynced_) == kWroteRules && sync_idle_ && committed_ == synced_) {
        unsynced_ = 0;
        lock.unlock();
        if (opts_.before_sync) opts_.before_sync();
        if (!rules_->sync_on_writer()) {
          log::warn("broker store: fdatasync of the rules log failed");
          stats_.errors.fetch_add(1, std::memory_order_relaxed);
        }
        report_durable(last);
        synced_here = last;  // committed_ and synced_ follow at the next lock: the syncer idles till then
        continue;
      }
      committed_ = last;
      unsynced_ |= wrote;
      wake_syncer = sync_idle_;
    }
    if (wake_syncer) sync_cv_.notify_one();
  }
}

void BrokerStore::apply_rules(Batch& b, const std::unordered_set<uint64_t>& cancelled) {
  // A RuleDone of an entry in the same batch (a target faster than the
  // writer) cancels both (with rule_hold_ms, hold_rules did it already).
  drop_delivered(b.rule_queued, b.rule_done);
  for (const RuleQueuedRec& r : b.rule_queued)
    if (r.message && (cancelled.empty() || !cancelled.count(r.seq))) rules_->queued(r.seq, *r.rule, *r.message);
  // A RuleDone the file does not know is a row of the table older versions wrote.
  for (uint64_t seq : rules_->done_all(b.rule_done)) table_done_.push_back(seq);
}

unsigned BrokerStore::apply(Batch& b) {
  std::vector<PersistRecord>& batch = b.records;
  // A message queued and acknowledged within one batch never touches the disk.
  // Likewise the will of a connection opened and closed within one batch.
  // The sets are the writer's own, kept between batches (made and freed per
  // batch they were ~200 instructions of every one-entry batch).
  auto& [queued, cancelled, armed, disarmed] = ends_;
  for (auto* set : {&queued, &cancelled, &armed, &disarmed})
    if (!set->empty()) set->clear();
  // Only a batch with an end in it can cancel anything (at a steady low rate a
  // batch is one RuleQueued or MessageQueued: no sets to fill).
  const bool ends = std::any_of(batch.begin(), batch.end(), [](const PersistRecord& r) {
    return r.kind == Kind::MessageDone || r.kind == Kind::RuleDone || r.kind == Kind::WillDisarmed;
  });
  if (ends) for (const auto& r : batch) {
    if (r.kind == Kind::MessageQueued || r.kind == Kind::RuleQueued) queued.insert(r.seq);
    else if ((r.kind == Kind::MessageDone || r.kind == Kind::RuleDone) && queued.count(r.seq)) cancelled.insert(r.seq);
    else if (r.kind == Kind::WillArmed) armed.insert(r.key);
    else if (r.kind == Kind::WillDisarmed && armed.count(r.key)) disarmed.insert(r.key);
  }
  // Rules' backlog records go to their own file (rule_log.hpp); a batch of
  // only those makes no SQLite transaction. A RuleDone the file does not know
  // is a row of the table older versions wrote.
  bool sql = false;
  table_done_.clear();
  std::vector<uint64_t>& table_done = table_done_;
  for (const auto& r : batch) {
    if (r.kind == Kind::RuleQueued) {
      if (!cancelled.count(r.seq)) rules_->queued(r.seq, r.text, *r.message);
    } else if (r.kind == Kind::RuleDone) {
      if (!cancelled.count(r.seq) && !rules_->done(r.seq)) table_done.push_back(r.seq);
    } else {
      sql = true;
    }
  }
  apply_rules(b, cancelled);
  const bool rules_written = rules_->pending();
  if (!rules_->flush() || (rules_written && opts_.fsync == FsyncMode::Always && !rules_->sync())) {
    log::error("broker store: rules log not written");
    stats_.errors.fetch_add(1, std::memory_order_relaxed);
  }
  auto& s = *st_;
  if (sql || !table_done.empty()) try {
    Transaction tx(*db_);
    for (uint64_t seq : table_done) s.rule_del.reset().bind(1, seq).run();
    for (const auto& r : batch) {
      switch (r.kind) {
        case Kind::SessionSaved:
          s.session_save.reset().bind(1, r.key).bind(2, r.ns).bind(3, r.client_id).bind(4, int64_t(r.expiry_s)).run();
          break;
        case Kind::SessionOffline:
          s.session_offline.reset().bind(1, r.wall_ms).bind(2, r.key).run();
          break;
        case Kind::SessionEnded:
          for (Stmt* st : {&s.session_del, &s.session_subs_del, &s.session_queue_del, &s.session_qos2_del})
            st->reset().bind(1, r.key).run();
          break;
        case Kind::SubscriptionAdded:
          s.sub_add.reset().bind(1, r.key).bind(2, r.text).bind(3, int64_t(r.options.qos))
              .bind(4, int64_t(sub_flags(r.options))).bind(5, int64_t(r.options.subscription_id)).run();
          break;
        case Kind::SubscriptionRemoved:
          s.sub_del.reset().bind(1, r.key).bind(2, r.text).run();
          break;
        case Kind::MessageQueued: {
          if (cancelled.count(r.seq)) break;
          const std::string blob = encode_message(*r.message);
          s.msg_add.reset().bind(1, r.seq).bind(2, r.key).bind(3, int64_t(r.qos)).bind(4, r.retain)
              .bind(5, int64_t(r.options.subscription_id)).bind(6, Blob{blob}).run();
          break;
        }
        case Kind::MessageSent:
        case Kind::MessageReleased:
          if (cancelled.count(r.seq)) break;
          s.msg_state.reset().bind(1, int64_t(r.packet_id)).bind(2, r.kind == Kind::MessageReleased)
              .bind(3, r.seq).run();
          break;
        case Kind::MessageDone:
          if (cancelled.count(r.seq)) break;
          s.msg_del.reset().bind(1, r.seq).run();
          break;
        case Kind::IncomingQos2:
          s.qos2_add.reset().bind(1, r.key).bind(2, int64_t(r.packet_id)).run();
          break;
        case Kind::IncomingQos2Done:
          s.qos2_del.reset().bind(1, r.key).bind(2, int64_t(r.packet_id)).run();
          break;
        case Kind::RetainedSet: {
          const std::string blob = encode_message(*r.message);
          s.retained_set.reset().bind(1, r.ns).bind(2, r.text).bind(3, Blob{blob}).run();
          break;
        }
        case Kind::RetainedCleared:
          s.retained_del.reset().bind(1, r.ns).bind(2, r.text).run();
          break;
        case Kind::WillScheduled: {
          const std::string blob = encode_message(*r.message);
          s.will_set.reset().bind(1, Blob{blob}).bind(2, r.wall_ms).bind(3, r.key).run();
          break;
        }
        case Kind::WillCancelled:
          s.will_del.reset().bind(1, r.key).run();
          break;
        case Kind::WillArmed: {
          if (disarmed.count(r.key)) break;
          const std::string blob = encode_message(*r.message);
          s.live_will_add.reset().bind(1, r.key).bind(2, r.ns).bind(3, r.client_id)
              .bind(4, int64_t(r.expiry_s)).bind(5, Blob{blob}).run();
          break;
        }
        case Kind::WillDisarmed:
          if (disarmed.count(r.key)) break;
          s.live_will_del.reset().bind(1, r.key).run();
          break;
        case Kind::RuleQueued:
        case Kind::RuleDone:
          break;  // above: the rules log
      }
    }
    tx.commit();
  } catch (const std::exception& e) {
    // The disk refused (full, I/O error): the state stays in memory and the
    // acknowledgements go out (availability over a stall); counted and logged.
    log::error("broker store: batch of {} records not written: {}", batch.size(), e.what());
    stats_.errors.fetch_add(1, std::memory_order_relaxed);
  }
  // Counters without a lock (a lock per batch was ~70 instructions of every one-entry batch).
  stats_.batches.fetch_add(1, std::memory_order_relaxed);
  stats_.records.fetch_add(batch.size() + b.rule_queued.size() + b.rule_done.size(), std::memory_order_relaxed);
  if (!cancelled.empty()) stats_.cancelled.fetch_add(cancelled.size(), std::memory_order_relaxed);
  return (sql || !table_done.empty() ? kWroteWal : 0u) | (rules_written ? kWroteRules : 0u);
}

BrokerStoreStats BrokerStore::stats() const {
  BrokerStoreStats out;
  out.batches = stats_.batches.load(std::memory_order_relaxed);
  out.records = stats_.records.load(std::memory_order_relaxed);
  out.cancelled = stats_.cancelled.load(std::memory_order_relaxed);
  out.errors = stats_.errors.load(std::memory_order_relaxed);
  return out;
}

broker::Recovered BrokerStore::recover() {
  broker::Recovered out;
  const int64_t wall = broker::wall_ms(), now = broker::now_ms();
  std::unordered_map<uint64_t, size_t> index;  // session key -> position in out.sessions
  {
    auto q = db_->query("SELECT key, ns, client_id, expiry_s, offline_at, will, will_due FROM sessions");
    while (q.step()) {
      broker::RecoveredSession s;
      s.key = uint64_t(q.int64(0));
      s.ns = q.text(1);
      s.client_id = q.text(2);
      s.expiry_s = uint32_t(q.int64(3));
      s.disconnected_wall_ms = q.int64(4);
      if (!q.is_null(5)) {
        s.will = decode_message(q.blob(5), wall, now);
        s.will_due_wall_ms = q.int64(6);
      }
      index.emplace(s.key, out.sessions.size());
      out.sessions.push_back(std::move(s));
    }
  }
  {
    auto q = db_->query("SELECT key, filter, qos, flags, sub_id FROM subscriptions");
    while (q.step()) {
      auto it = index.find(uint64_t(q.int64(0)));
      if (it == index.end()) continue;
      broker::SubOptions o;
      o.qos = uint8_t(q.int64(2) & 3);
      const int64_t f = q.int64(3);
      o.no_local = f & 1;
      o.retain_as_published = f & 2;
      o.retain_handling = uint8_t((f >> 2) & 3);
      o.subscription_id = uint32_t(q.int64(4));
      out.sessions[it->second].subscriptions.emplace_back(q.text(1), o);
    }
  }
  std::vector<int64_t> dead;  // expired, undecodable, or of a session that is gone
  {
    auto q = db_->query("SELECT seq, key, qos, retain, sub_id, packet_id, released, message FROM queue ORDER BY seq");
    while (q.step()) {
      const int64_t seq = q.int64(0);
      auto it = index.find(uint64_t(q.int64(1)));
      broker::MessagePtr m = it == index.end() ? nullptr : decode_message(q.blob(7), wall, now);
      if (!m || m->expired(now)) {
        dead.push_back(seq);
        continue;
      }
      broker::RecoveredEntry e;
      e.seq = uint64_t(seq);
      e.message = std::move(m);
      e.qos = uint8_t(q.int64(2) == 2 ? 2 : 1);
      e.retain = q.int64(3) != 0;
      e.subscription_id = uint32_t(q.int64(4));
      e.packet_id = uint16_t(q.int64(5));
      e.released = q.int64(6) != 0;
      out.sessions[it->second].entries.push_back(std::move(e));
    }
  }
  {
    auto q = db_->query("SELECT key, packet_id FROM incoming_qos2");
    while (q.step()) {
      auto it = index.find(uint64_t(q.int64(0)));
      if (it != index.end()) out.sessions[it->second].incoming_qos2.push_back(uint16_t(q.int64(1)));
    }
  }
  {
    auto q = db_->query("SELECT key, ns, client_id, delay_s, message FROM live_wills ORDER BY key");
    while (q.step()) {
      broker::RecoveredWill w;
      w.key = uint64_t(q.int64(0));
      w.ns = q.text(1);
      w.client_id = q.text(2);
      w.delay_s = uint32_t(q.int64(3));
      w.will = decode_message(q.blob(4), wall, now);
      out.live_wills.push_back(std::move(w));  // undecodable: will == null, dropped by the broker
    }
  }
  {
    auto q = db_->query("SELECT ns, message FROM retained");
    while (q.step()) {
      broker::MessagePtr m = decode_message(q.blob(1), wall, now);
      if (m && !m->expired(now)) out.retained.emplace_back(q.text(0), std::move(m));
    }
  }
  {
    // Rules' backlogs (issue 19): expiry does not apply (a target archives what
    // was published); an undecodable entry is dropped. The table holds what
    // versions before the rules log wrote (deleted as it is delivered).
    out.rule_entries = rules_->take_recovered(wall, now);
    auto q = db_->query("SELECT seq, rule, message FROM rule_queue ORDER BY seq");
    while (q.step()) {
      broker::RecoveredRuleEntry e;
      e.seq = uint64_t(q.int64(0));
      e.rule = q.text(1);
      e.message = decode_message(q.blob(2), wall, now);
      if (e.message) out.rule_entries.push_back(std::move(e));
    }
    std::sort(out.rule_entries.begin(), out.rule_entries.end(),
              [](const auto& a, const auto& b) { return a.seq < b.seq; });
  }
  if (!dead.empty()) {
    Transaction tx(*db_);
    for (int64_t seq : dead) st_->msg_del.reset().bind(1, seq).run();
    tx.commit();
  }
  // Orphans (records that raced their session's end) go too.
  db_->exec("DELETE FROM subscriptions WHERE key NOT IN (SELECT key FROM sessions);"
            "DELETE FROM incoming_qos2 WHERE key NOT IN (SELECT key FROM sessions);");
  return out;
}

}  // namespace sluice::persist
