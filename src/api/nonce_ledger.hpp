#pragma once
// Signature nonces shared by every node of a store (PostgreSQL): a nonce used
// on node A is refused on node B. Each node still keeps its in-memory
// NonceCache (signature.hpp), which refuses a replay to the same node without
// a round trip; an authentic request whose nonce is new to this node is then
// recorded here, in the control store's api_nonces table, whose primary key
// (a SHA-256 of key id and nonce) lets exactly one insert win, whichever node
// makes it. Rows expire with the nonce cache's span (twice the timestamp
// window: a request older than that is refused for its timestamp anyway) and
// are deleted by whichever node comes by, once a minute.
//
// Group commit: the nonces that arrive while a round trip is in flight wait,
// and the next round trip records all of them in one statement (`INSERT ...
// SELECT FROM unnest(...) ON CONFLICT DO NOTHING RETURNING nonce_hash`): each
// learns from RETURNING whether its row was new. The round trips are made by
// the ledger's own thread, and a request waits for its answer without holding
// an HTTP thread (submit(): the answer comes as a callback), so that on this
// path no thread is put to sleep and woken per request: one wake-up per batch.
// (Measured: the HTTP threads parked on a condition variable per request cost
// more CPU in context switches than the request itself; docs/benchmarks.md.)
// The guarantee is the primary key's, as with one insert per request; a nonce
// twice in one batch is new for its first request only.
//
// It has a connection of its own (Store::connect()), so API calls do not queue
// behind the store mutex for it, and that connection does not wait for the
// disk at commit (synchronous_commit = off): a crash of PostgreSQL may forget
// the nonces of its last fraction of a second, which only reopens replays of
// requests made in that instant, still bound by their timestamps.
//
// Only for PostgreSQL: one node on SQLite has one NonceCache, which is all.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sluice::store {
class Store;
class Db;
}  // namespace sluice::store

namespace sluice::api {

class NonceLedger {
 public:
  // Migrates the table (throws DbError, also for a schema newer than this binary).
  explicit NonceLedger(store::Store& store);
  ~NonceLedger();
  NonceLedger(const NonceLedger&) = delete;
  NonceLedger& operator=(const NonceLedger&) = delete;

  // `done(true, {})`: first use anywhere (now recorded until now +
  // ttl_seconds); `done(false, {})`: used before, on any node; `done(false,
  // error)`: a store::DbError (Unavailable when the store is out of reach: the
  // caller answers ServiceUnavailable, it cannot tell). Called once, on the
  // ledger's thread (or the caller's, after stop()): it must not block.
  using Done = std::function<void(bool fresh, std::exception_ptr error)>;
  void submit(std::string_view access_key_id, std::string_view nonce, int64_t now, int64_t ttl_seconds, Done done);
  // The same, waiting for the answer: true / false as above, or throws the DbError.
  bool first_use(std::string_view access_key_id, std::string_view nonce, int64_t now, int64_t ttl_seconds);
  // Ends the thread; what waits, and every later submit(), hears
  // DbError(Unavailable). Before the HTTP server stops: the callbacks answer
  // its requests. Idempotent; the destructor calls it.
  void stop();

  // One batch's statement, as the leader sends it: for each hash (hex
  // SHA-256), whether its row was new; a hash given twice is new once at most.
  // Throws store::DbError. Public for the tests.
  struct Entry {
    std::string hash;
    int64_t expires_at = 0;
  };
  std::vector<bool> record(const std::vector<Entry>& batch);

  // Round trips made and nonces recorded, since construction (tests, benchmarks).
  struct Stats {
    uint64_t statements = 0, nonces = 0;
  };
  Stats stats() const;

 private:
  struct Waiter {
    Entry entry;
    int64_t now = 0;
    Done done;
  };
  static constexpr size_t kMaxBatch = 256;  // nonces per statement
  void loop();

  store::Store& store_;
  std::unique_ptr<store::Db> db_;  // the thread's alone
  mutable std::mutex mu_;          // what follows
  std::condition_variable wake_;   // a nonce waits, or stop()
  std::deque<Waiter> queue_;       // waiting for the next round trip
  bool stopping_ = false;
  int64_t next_prune_ = 0;         // the thread's alone
  Stats stats_;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace sluice::api
