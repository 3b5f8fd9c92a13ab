#pragma once
// Change notifications for the owners of cached control-plane state (IAM's
// caches, MQ's snapshot). What a feed reports is somebody else's commit:
// another process on the same SQLite file today (`sluice admin` while the
// server runs), another node on the same PostgreSQL (issue 16). Writes made
// through this process's own connection are not reported: their owner knows.
//
// Readers, from any thread, as cheaply as a generation() call must be:
//   if (feed.due()) feed.poll([&](const store::Change& c) { reload(); });
// Writers: every write to the owner's tables runs in a ChangeTx, so that the
// backend can tell the other readers (PostgreSQL: NOTIFY inside the writing
// transaction) and does not take the owner's own commits for someone else's
// (SQLite: a commit counter the owner's triggers move).
#include <time.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "store/db.hpp"

namespace sluice::store {

struct Change {
  std::string account_id;  // whose state changed; empty: anything may have changed
};

class ChangeFeed {
 public:
  using OnChange = std::function<void(const Change&)>;
  explicit ChangeFeed(int64_t interval_ms = 200) : last_ms_(steady_ms()), interval_ms_(interval_ms) {}
  virtual ~ChangeFeed() = default;
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Time to poll? One coarse clock read; of the callers in one interval, one wins.
  bool due() {
    const int64_t t = steady_ms();
    int64_t last = last_ms_.load(std::memory_order_relaxed);
    return t - last >= interval_ms_ && last_ms_.compare_exchange_strong(last, t);
  }
  // Calls on_change, with the store mutex held, for what others committed
  // since the last poll. Never waits for a writer and never throws: when the
  // store is busy or fails, a later poll tries again.
  virtual void poll(const OnChange& on_change) = 0;
  // For a read answered from the owner's cache that must include what others
  // committed before it began (a ListGroupId on node B right after a
  // CreateGroupId answered on node A): poll now rather than when due(),
  // waiting for the store mutex (a read through the store would wait for it
  // too). true: the cache holds everything the feed has heard of; false: the
  // feed cannot vouch for it (cut off from the store, or the owner's reload
  // failed): read through the store instead.
  virtual bool catch_up(const OnChange& on_change) = 0;

  // Write side: ChangeTx calls these with the store mutex held, inside its
  // transaction. begun() starts afresh (a transaction rolled back before it is
  // simply forgotten).
  virtual void begun() {}
  virtual void touched(std::string_view account_id) { (void)account_id; }
  virtual void committing() {}  // just before COMMIT
  virtual void committed() {}   // after COMMIT succeeded

  // Since when (steady ms, as steady_ms()) the feed has been cut off from the
  // store, so that it may have missed changes; 0 while it is not. SQLite's
  // never is; PostgreSQL's while its listener has no connection. Any thread.
  virtual int64_t lost_since_ms() const { return 0; }

  // CLOCK_MONOTONIC_COARSE in ms: a few ns, a few ms resolution (fine for a 200 ms poll).
  static int64_t steady_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }

 private:
  std::atomic<int64_t> last_ms_;
  const int64_t interval_ms_;
};

// A write transaction on an owner's tables that keeps its ChangeFeed informed.
// Same rules as Transaction (BEGIN here, ROLLBACK unless commit() ran).
class ChangeTx {
 public:
  ChangeTx(Db& db, ChangeFeed& feed) : tx_(db), feed_(feed) { feed_.begun(); }
  // The account whose state the transaction changes (PostgreSQL sends it to the other nodes).
  void touched(std::string_view account_id) { feed_.touched(account_id); }
  void commit() {
    feed_.committing();
    tx_.commit();
    feed_.committed();
  }

 private:
  Transaction tx_;
  ChangeFeed& feed_;
};

}  // namespace sluice::store
