#include "cluster/pg_leases.hpp"

#include <cstdlib>
#include <optional>
#include <stdexcept>

#include "common/log.hpp"
#include "store/migrate.hpp"
#include "store/pg_db.hpp"

namespace sluice::cluster {

namespace {

// The cluster's own owner in the store's migration runner (PostgreSQL only: a
// cluster's nodes share a PostgreSQL; SQLite is one node's).
const store::Migration kPgSteps[] = {
    {1, R"sql(
CREATE TABLE IF NOT EXISTS cluster_nodes (
  node       TEXT PRIMARY KEY,        -- --node-name
  epoch      BIGINT NOT NULL,         -- 1 at the first join, one more at every rejoin
  joined_at  TIMESTAMPTZ NOT NULL,    -- every time here is PostgreSQL's clock (now())
  renewed_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL     -- from then on the node is dead to the others
);
)sql"},
};
const store::Schema kSchema{"cluster", "cluster_schema", {}, false, kPgSteps};

// Both statements answer, in one round trip, this node's epoch (a first row
// flagged true; none when the renewal failed) and then every node's row as it
// was before the statement (false, node, epoch, lease running).
constexpr const char* kOthers =
    " SELECT true, $1::text, epoch, true FROM mine"
    " UNION ALL SELECT false, node, epoch, expires_at > now() FROM cluster_nodes";

const std::string kJoin = std::string(
    "WITH mine AS (INSERT INTO cluster_nodes AS c (node, epoch, joined_at, renewed_at, expires_at)"
    " VALUES ($1::text, 1, now(), now(), now() + $2::bigint * interval '1 millisecond')"
    " ON CONFLICT (node) DO UPDATE SET epoch = c.epoch + 1, joined_at = now(), renewed_at = now(),"
    " expires_at = excluded.expires_at RETURNING epoch)") + kOthers;

// Only a lease that is still running and still this epoch's.
const std::string kRenew = std::string(
    "WITH mine AS (UPDATE cluster_nodes SET renewed_at = now(),"
    " expires_at = now() + $2::bigint * interval '1 millisecond'"
    " WHERE node = $1::text AND epoch = $3::bigint AND expires_at > now() RETURNING epoch)") + kOthers;

int64_t to_int(const std::string& s) { return std::strtoll(s.c_str(), nullptr, 10); }

}  // namespace

PgLeases::PgLeases(std::string conninfo, std::string node, int64_t hold_ms)
    : link_(conninfo), node_(std::move(node)), hold_ms_(hold_ms) {
  try {
    auto db = store::PgDb::open(conninfo);
    store::migrate(*db, kSchema);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot set up this node's lease in PostgreSQL: ") + e.what());
  }
  try {
    renew_once();
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot take this node's lease in PostgreSQL: ") + e.what());
  }
  log::info("cluster: node {} holds its lease in PostgreSQL (epoch {}, {} ms, renewed every {} ms)", node_,
            epoch_, kLeaseMs, kRenewMs);
}

PgLeases::~PgLeases() { stop(); }

void PgLeases::start() {
  thread_ = std::thread([this] {
    auto next = Clock::now() + std::chrono::milliseconds(kRenewMs);
    std::unique_lock lk(wake_mu_);
    while (!stopping_.load(std::memory_order_acquire)) {
      if (wake_.wait_until(lk, next, [this] { return stopping_.load(std::memory_order_acquire); })) break;
      next = Clock::now() + std::chrono::milliseconds(kRenewMs);
      lk.unlock();
      try {
        renew_once();
        std::lock_guard g(mu_);
        if (failing_) log::warn("cluster: node {} renews its lease in PostgreSQL again (epoch {})", node_, epoch_);
        failing_ = false;
      } catch (const std::exception& e) {
        std::lock_guard g(mu_);
        if (!failing_ && !stopping_.load(std::memory_order_acquire))
          log::warn("cluster: node {} cannot renew its lease: {}", node_, e.what());
        failing_ = true;
      }
      lk.lock();
    }
  });
}

void PgLeases::stop() {
  {
    std::lock_guard lk(wake_mu_);
    stopping_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  link_.close();
}

// One round trip: takes or renews the lease, reads the others'. Throws.
void PgLeases::renew_once() {
  bool joining;
  int64_t epoch;
  uint64_t generation;
  {
    std::lock_guard lk(mu_);
    joining = !joined_;
    epoch = epoch_;
    generation = generation_;
  }
  const auto sent = Clock::now();
  const auto deadline = sent + std::chrono::milliseconds(kTimeoutMs);
  const auto rows = joining ? link_.query(kJoin.c_str(), {node_, std::to_string(kLeaseMs)}, deadline, &stopping_)
                            : link_.query(kRenew.c_str(), {node_, std::to_string(kLeaseMs), std::to_string(epoch)},
                                          deadline, &stopping_);
  std::optional<int64_t> mine;
  int64_t row_epoch = 0;
  std::map<std::string, Peer, std::less<>> peers;
  for (const auto& r : rows) {
    if (r.size() != 4) continue;
    if (r[0] == "t") {
      mine = to_int(r[2]);
    } else if (r[1] == node_) {
      row_epoch = to_int(r[2]);
    } else {
      peers[r[1]] = Peer{to_int(r[2]), r[3] == "t"};
    }
  }
  std::lock_guard lk(mu_);
  note_peers_locked(std::move(peers), read_ == Clock::time_point{});
  read_ = sent;
  if (mine) {
    // A rejoin() asked while this round trip was in flight: the next one
    // takes the lease again (an epoch taken after the node stopped serving).
    if (generation != generation_) return;
    if (joining) {
      if (epoch_ != 0) log::warn("cluster: node {} took its lease in PostgreSQL again: epoch {}", node_, *mine);
      joined_ = true;
      epoch_ = *mine;
    }
    if (joined_ && epoch_ == *mine) renewed_ = sent;
    return;
  }
  if (joined_ && epoch_ == epoch) {
    joined_ = false;
    losses_.fetch_add(1, std::memory_order_acq_rel);
    if (row_epoch != epoch)
      log::error("cluster: node {}'s lease in PostgreSQL was taken by epoch {} (another process with this node "
                 "name?): it stops serving and takes it back", node_, row_epoch);
    else
      log::error("cluster: node {}'s lease in PostgreSQL ran out (epoch {}): it stops serving and rejoins", node_,
                 epoch);
  }
}

// Logs the changes since the last read (not at the first: what was before is unknown).
void PgLeases::note_peers_locked(std::map<std::string, Peer, std::less<>> peers, bool first) {
  if (!first)
    for (const auto& [name, p] : peers) {
      auto it = peers_.find(name);
      const bool was = it != peers_.end() && it->second.running;
      if (was && !p.running)
        log::warn("cluster: node {}'s lease in PostgreSQL ran out (epoch {}): taken for dead", name, p.epoch);
      else if (p.running && (!was || it->second.epoch != p.epoch))
        log::info("cluster: node {} holds a lease in PostgreSQL (epoch {})", name, p.epoch);
    }
  bool any = false;
  for (const auto& kv : peers) any |= !kv.second.running;
  any_expired_.store(any, std::memory_order_relaxed);
  peers_ = std::move(peers);
}

bool PgLeases::fresh_locked(Clock::time_point now) const {
  return read_ != Clock::time_point{} && now - read_ < std::chrono::milliseconds(hold_ms_);
}

bool PgLeases::held() const {
  std::shared_lock lk(mu_);
  return joined_ && Clock::now() - renewed_ < std::chrono::milliseconds(hold_ms_);
}

void PgLeases::rejoin() {
  std::lock_guard lk(mu_);
  joined_ = false;
  ++generation_;
}

int64_t PgLeases::epoch() const {
  std::shared_lock lk(mu_);
  return epoch_;
}

bool PgLeases::expired(const std::string& node) const {
  if (!any_expired_.load(std::memory_order_relaxed)) return false;  // the common case: no lock
  std::shared_lock lk(mu_);
  if (!fresh_locked(Clock::now())) return false;
  auto it = peers_.find(node);
  return it != peers_.end() && !it->second.running;
}

std::vector<std::pair<std::string, bool>> PgLeases::peers() const {
  std::vector<std::pair<std::string, bool>> out;
  std::shared_lock lk(mu_);
  if (!fresh_locked(Clock::now())) return out;
  for (const auto& [name, p] : peers_) out.emplace_back(name, p.running);
  return out;
}

}  // namespace sluice::cluster
