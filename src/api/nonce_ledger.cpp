#include "api/nonce_ledger.hpp"

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
}  // namespace

NonceLedger::NonceLedger(store::Store& store) : store_(store) {
  db_ = store_.connect();
  store::migrate(*db_, kSchema);
  // A nonce is worth a round trip, not a disk flush (see the header).
  if (auto* pg = dynamic_cast<store::PgDb*>(db_.get())) pg->set_session_sql("SET synchronous_commit = off");
}

NonceLedger::~NonceLedger() = default;

bool NonceLedger::first_use(std::string_view access_key_id, std::string_view nonce, int64_t now,
                            int64_t ttl_seconds) {
  std::string key(access_key_id);
  key.push_back('\n');
  key.append(nonce);
  const std::string hash = common::sha256_hex(key);
  std::lock_guard lk(mu_);
  if (now >= next_prune_) {
    next_prune_ = now + 60;
    db_->run("DELETE FROM api_nonces WHERE expires_at < ?", now);
  }
  return db_->run("INSERT INTO api_nonces(nonce_hash, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING", hash,
                  now + ttl_seconds) == 1;
}

}  // namespace sluice::api
