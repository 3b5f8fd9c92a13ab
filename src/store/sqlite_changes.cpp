// SQLite's change feed: PRAGMA data_version moves when another connection
// commits to the file (never for this connection's own commits). An owner may
// narrow that to its own tables with a commit counter in meta, named
// "<channel>_version" and moved by its triggers (IAM: iam_version): only a
// moved counter is then a change. The owner's own commits move that counter
// too, so ChangeTx tells the feed which moves were its own.
#include <mutex>

#include "store/changes.hpp"
#include "store/sqlite_db.hpp"

namespace sluice::store {

namespace {

class SqliteChangePoller final : public ChangeFeed {
 public:
  // Constructed with the store mutex held.
  SqliteChangePoller(Db& db, std::mutex& mu, std::string channel)
      : db_(db), mu_(mu), counter_key_(std::move(channel) + "_version") {
    data_version_ = data_version();
    auto q = db_.query("SELECT value FROM meta WHERE key = ?", counter_key_);
    counted_ = q.step();
    if (counted_) seen_ = q.int64(0);
  }

  void poll(const OnChange& on_change) override {
    // Never block a reader: if a write is in progress, check next time.
    std::unique_lock lk(mu_, std::try_to_lock);
    if (!lk.owns_lock()) return;
    drain(on_change);
  }

  bool catch_up(const OnChange& on_change) override {
    std::lock_guard lk(mu_);
    return drain(on_change);
  }

  // The owner's own commit moved the counter from `start_` to `end_`: take that
  // move as seen, unless someone else's change is still unseen (then the poll
  // reports it, and this commit with it).
  void begun() override {
    if (counted_) start_ = counter();
  }
  void committing() override {
    if (counted_) end_ = counter();
  }
  void committed() override {
    if (counted_ && seen_ == start_) seen_ = end_;
  }

 private:
  // Store mutex held. false: it could not look (a transient SQLite error, busy)
  // or the owner's reload failed; the next poll tries again.
  bool drain(const OnChange& on_change) {
    try {
      const int64_t dv = data_version();
      if (dv == data_version_) return true;
      if (counted_) {
        // Another connection committed; was it to this owner's tables?
        const int64_t v = counter();
        if (v == seen_) {
          data_version_ = dv;
          return true;
        }
        on_change(Change{});
        seen_ = v;
      } else {
        on_change(Change{});
      }
      data_version_ = dv;  // only once the owner has reloaded
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  int64_t data_version() {
    auto q = db_.query("PRAGMA data_version");
    return q.step() ? q.int64(0) : 0;
  }
  int64_t counter() {
    auto q = db_.query("SELECT value FROM meta WHERE key = ?", counter_key_);
    return q.step() ? q.int64(0) : 0;
  }

  Db& db_;
  std::mutex& mu_;
  const std::string counter_key_;
  bool counted_ = false;
  // All under the store mutex:
  int64_t data_version_ = 0;
  int64_t seen_ = 0;  // the counter as of the last change reported or own commit
  int64_t start_ = 0, end_ = 0;
};

}  // namespace

std::unique_ptr<ChangeFeed> SqliteDb::watch(std::string channel, std::mutex& store_mutex) {
  return std::make_unique<SqliteChangePoller>(*this, store_mutex, std::move(channel));
}

}  // namespace sluice::store
