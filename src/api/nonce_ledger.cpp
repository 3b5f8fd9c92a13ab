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

NonceLedger::NonceLedger(store::Store& store) : store_(store) {
  db_ = store_.connect();
  store::migrate(*db_, kSchema);
  // A nonce is worth a round trip, not a disk flush (see the header).
  if (auto* pg = dynamic_cast<store::PgDb*>(db_.get())) pg->set_session_sql("SET synchronous_commit = off");
  thread_ = std::thread([this] { loop(); });
}

NonceLedger::~NonceLedger() { stop(); }

void NonceLedger::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}


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

void NonceLedger::submit(std::string_view access_key_id, std::string_view nonce, int64_t now, int64_t ttl_seconds,
                         Done done) {
  std::string key(access_key_id);
  key.push_back('\n');
  key.append(nonce);
  Waiter w{Entry{common::sha256_hex(key), now + ttl_seconds}, now, std::move(done)};
  {
    std::lock_guard lk(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(w));
      // Only the first of a batch wakes the thread: the others join the batch
      // it takes, or the next one, without a system call.
      if (queue_.size() == 1) wake_.notify_one();
      return;
    }
  }
  w.done(false, std::make_exception_ptr(store::DbError("the nonce ledger is stopped", store::DbError::Kind::Unavailable)));
}

bool NonceLedger::first_use(std::string_view access_key_id, std::string_view nonce, int64_t now,
                            int64_t ttl_seconds) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false, fresh = false;
  std::exception_ptr error;
  submit(access_key_id, nonce, now, ttl_seconds, [&](bool f, std::exception_ptr e) {
    std::lock_guard lk(m);
    fresh = f;
    error = e;
    done = true;
    cv.notify_one();
  });
  std::unique_lock lk(m);
  cv.wait(lk, [&] { return done; });
  if (error) std::rethrow_exception(error);
  return fresh;
}

void NonceLedger::loop() {
  std::unique_lock lk(mu_);
  for (;;) {
    wake_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    // Everything that waits, up to a statement's worth, in one round trip.
    std::vector<Waiter> batch;
    const size_t n = std::min(queue_.size(), kMaxBatch);
    batch.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lk.unlock();
    int64_t latest = 0;
    for (const Waiter& w : batch) latest = std::max(latest, w.now);
    std::vector<bool> fresh;
    std::exception_ptr error;
    try {
      if (latest >= next_prune_) {
        next_prune_ = latest + 60;
        db_->run("DELETE FROM api_nonces WHERE expires_at < ?", latest);
      }
      std::vector<Entry> entries;
      entries.reserve(batch.size());
      for (const Waiter& w : batch) entries.push_back(w.entry);
      fresh = record(entries);
    } catch (...) {
      error = std::current_exception();  // every request of the batch hears it (503 when unreachable)
    }
    {
      std::lock_guard counted(mu_);  // before the answers: whoever heard one sees it counted
      ++stats_.statements;
      stats_.nonces += batch.size();
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(!error && fresh[i], error);
    lk.lock();
  }
  // Stopped: whoever still waits hears so (submit() refuses from now on).
  std::deque<Waiter> left;
  left.swap(queue_);
  lk.unlock();
  for (Waiter& w : left)
    w.done(false, std::make_exception_ptr(store::DbError("the nonce ledger is stopped", store::DbError::Kind::Unavailable)));
}

NonceLedger::Stats NonceLedger::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

}  // namespace sluice::api
