#include "api/nonce_ledger.hpp"

#include <algorithm>
#include <unordered_map>

#include "common/crypto.hpp"
#include "store/db.hpp"
#include "store/migrate.hpp"
#include "store/pg_db.hpp"
#include "store/store.hpp"

namespace sluice::api {

namespace {
const store::Migration kPgSteps[] = {
    {1, R"sql(
CREATE TABLE IF NOT EXISTS api_nonces (
  nonce_hash TEXT PRIMARY KEY,   -- hex SHA-256 of access key id, newline, nonce
  expires_at BIGINT NOT NULL     -- Unix seconds
);
CREATE INDEX IF NOT EXISTS api_nonces_expiry ON api_nonces(expires_at);
)sql"},
};
// SQLite has no steps: the ledger is for several nodes, which need PostgreSQL.
const store::Schema kSchema{"api nonces", "api_nonce_schema", {}, false, kPgSteps};

// One statement text whatever the batch's size (one prepared statement): the
// hashes and expiry times as two array literals. Hex hashes and integers need
// no quoting inside an array literal.
constexpr const char* kInsert =
    "INSERT INTO api_nonces(nonce_hash, expires_at) SELECT * FROM unnest(?::text[], ?::bigint[]) "
    "ON CONFLICT DO NOTHING RETURNING nonce_hash";
}  // namespace

struct NonceLedger::Waiter {
  Entry entry;
  int64_t now = 0;
  bool done = false, fresh = false;
  std::exception_ptr error;
  std::condition_variable cv;  // this request's own wake-up
};

NonceLedger::NonceLedger(store::Store& store) : store_(store) {
  db_ = store_.connect();
  store::migrate(*db_, kSchema);
  // A nonce is worth a round trip, not a disk flush (see the header).
  if (auto* pg = dynamic_cast<store::PgDb*>(db_.get())) pg->set_session_sql("SET synchronous_commit = off");
}

NonceLedger::~NonceLedger() = default;

std::vector<bool> NonceLedger::record(const std::vector<Entry>& batch) {
  std::string hashes = "{", expiries = "{";
  std::unordered_map<std::string_view, size_t> first;  // hash -> its first index in the batch
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!first.emplace(batch[i].hash, i).second) continue;  // sent once
    if (hashes.size() > 1) hashes += ',', expiries += ',';
    hashes += batch[i].hash;
    expiries += std::to_string(batch[i].expires_at);
  }
  hashes += '}', expiries += '}';
  std::vector<bool> fresh(batch.size(), false);
  auto q = db_->query(kInsert, hashes, expiries);
  while (q.step())
    if (auto it = first.find(q.text(0)); it != first.end()) fresh[it->second] = true;
  return fresh;
}

bool NonceLedger::first_use(std::string_view access_key_id, std::string_view nonce, int64_t now,
                            int64_t ttl_seconds) {
  std::string key(access_key_id);
  key.push_back('\n');
  key.append(nonce);
  Waiter me;
  me.entry = Entry{common::sha256_hex(key), now + ttl_seconds};
  me.now = now;
  std::unique_lock lk(mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (sending_) {
      // Woken only for this request: its batch answered, or it is first in
      // line when a round trip ends (each waiter has its own condition, so a
      // batch's end does not wake every thread in the queue).
      me.cv.wait(lk);
      continue;
    }
    // Lead: send what is waiting (this request's among it) in one round trip.
    sending_ = true;
    std::vector<Waiter*> batch;
    const size_t n = std::min(queue_.size(), kMaxBatch);
    batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    bool prune = false;
    int64_t latest = 0;
    for (const Waiter* w : batch) latest = std::max(latest, w->now);
    if (latest >= next_prune_) {
      next_prune_ = latest + 60;
      prune = true;
    }
    lk.unlock();
    std::vector<bool> fresh;
    std::exception_ptr error;
    try {
      if (prune) db_->run("DELETE FROM api_nonces WHERE expires_at < ?", latest);
      std::vector<Entry> entries;
      entries.reserve(batch.size());
      for (const Waiter* w : batch) entries.push_back(w->entry);
      fresh = record(entries);
    } catch (...) {
      error = std::current_exception();  // every request of the batch hears it (503 when unreachable)
    }
    lk.lock();
    sending_ = false;
    ++stats_.statements;
    stats_.nonces += batch.size();
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->done = true;
      batch[i]->fresh = !error && fresh[i];
      batch[i]->error = error;
      if (batch[i] != &me) batch[i]->cv.notify_one();
    }
    if (!queue_.empty()) queue_.front()->cv.notify_one();  // the next leader
  }
  if (me.error) std::rethrow_exception(me.error);
  return me.fresh;
}

NonceLedger::Stats NonceLedger::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

}  // namespace sluice::api
