// When each access key was last used (RAM GetAccessKeyLastUsed). A signed API
// call or MQTT connect notes the time in memory; the notes are written in one
// batch at most once a minute (by the next use after that, or on shutdown), so
// no request pays for a store write. A read merges memory over the store.
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"

namespace sluice::iam {

using namespace detail;

void IamService::note_key_used(std::string_view key_id) {
  const int64_t t = now();
  bool due = false;
  {
    std::lock_guard lk(usage_mu_);
    if (key_usage_.size() < 100000) {  // bounded: beyond this, the next flush catches up
      auto it = key_usage_.find(key_id);
      if (it == key_usage_.end()) key_usage_.emplace(std::string(key_id), t);
      else if (it->second < t) it->second = t;
    }
    if (usage_flushed_at_ == 0) usage_flushed_at_ = t;
    due = t - usage_flushed_at_ >= kKeyUsageFlushSeconds;
  }
  if (due) flush_key_usage();
}

void IamService::flush_key_usage() {
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> batch;
  {
    std::lock_guard lk(usage_mu_);
    batch.swap(key_usage_);
    usage_flushed_at_ = now();
  }
  if (batch.empty()) return;
  // No IamTx and no bump: the last-use time is not identity state, so no cache moves.
  auto r = guarded([&]() -> Status {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    store::Transaction tx(db);
    for (const auto& [id, t] : batch)
      db.run("INSERT INTO access_key_usage(access_key_id, last_used_at) VALUES (?, ?) ON CONFLICT(access_key_id) "
             "DO UPDATE SET last_used_at = CASE WHEN excluded.last_used_at > access_key_usage.last_used_at THEN "
             "excluded.last_used_at ELSE access_key_usage.last_used_at END",
             id, t);
    tx.commit();
    return {};
  });
  if (!r) {  // the store out of reach: keep the notes for the next flush
    std::lock_guard lk(usage_mu_);
    for (auto& [id, t] : batch) key_usage_.try_emplace(id, t);
  }
}

Result<std::optional<int64_t>> IamService::access_key_last_used(std::string_view account_id,
                                                                std::optional<std::string> user,
                                                                std::string_view key_id) {
  auto stored = guarded([&]() -> Result<std::optional<int64_t>> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    auto k = db.query("SELECT user_name FROM access_keys WHERE id = ? AND account_id = ?", key_id, account_id);
    const bool mine = k.step() && (user ? !k.is_null(0) && k.text(0) == *user : k.is_null(0));
    if (!mine)
      return err::not_exist("EntityNotExist.User.AccessKey",
                            "The access key " + std::string(key_id) + " does not exist" +
                                (user ? " for the user \"" + *user + "\"." : " for the account."));
    auto q = db.query("SELECT last_used_at FROM access_key_usage WHERE access_key_id = ?", key_id);
    if (q.step()) return std::optional<int64_t>(q.int64(0));
    return std::optional<int64_t>();
  });
  if (!stored) return stored;
  std::lock_guard lk(usage_mu_);
  if (auto it = key_usage_.find(key_id); it != key_usage_.end())
    if (!*stored || **stored < it->second) return std::optional<int64_t>(it->second);
  return stored;
}

}  // namespace sluice::iam
