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
// It has a connection of its own (Store::connect()), so API calls do not queue
// behind the store mutex for it, and that connection does not wait for the
// disk at commit (synchronous_commit = off): a crash of PostgreSQL may forget
// the nonces of its last fraction of a second, which only reopens replays of
// requests made in that instant, still bound by their timestamps.
//
// Only for PostgreSQL: one node on SQLite has one NonceCache, which is all.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

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

  // true: first use anywhere (now recorded until now + ttl_seconds); false:
  // used before, on any node. Throws store::DbError (Unavailable when the store
  // is out of reach: the caller answers ServiceUnavailable, it cannot tell).
  bool first_use(std::string_view access_key_id, std::string_view nonce, int64_t now, int64_t ttl_seconds);

 private:
  store::Store& store_;
  std::mutex mu_;  // the connection
  std::unique_ptr<store::Db> db_;
  int64_t next_prune_ = 0;
};

}  // namespace sluice::api
