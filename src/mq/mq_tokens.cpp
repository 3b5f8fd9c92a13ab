// Tokens (ApplyToken, QueryToken, RevokeToken): stored as the SHA-256 of the
// token, kept in a map of their own beside the snapshot (ApplyToken runs at
// API rates: one entry added, no rebuild).
#include <boost/json.hpp>

#include "common/crypto.hpp"
#include "mq/internal.hpp"

namespace sluice::mq {

using namespace detail;

namespace json = boost::json;

Result<std::string> MqService::ApplyToken(std::string_view account_id, std::string_view instance_id,
                                          const std::vector<std::string>& resources, std::string_view actions,
                                          int64_t expire_time_ms) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  bool read = false, write_ = false;
  if (actions == "R") read = true;
  else if (actions == "W") write_ = true;
  else if (actions == "R,W" || actions == "W,R") read = write_ = true;
  else return bad("Actions", "Actions must be R, W or R,W.");
  if (resources.empty() || resources.size() > opts_.token_max_resources)
    return bad("Resources", "Give 1 to " + std::to_string(opts_.token_max_resources) + " resources (topics).");
  for (const auto& r : resources)
    if (auto e = check_filter("Resources", r)) return *e;
  const int64_t now = now_ms();
  if (expire_time_ms < now + opts_.token_min_ttl_ms || expire_time_ms > now + opts_.token_max_ttl_ms)
    return bad("ExpireTime", "ExpireTime (epoch milliseconds) must be between 60 seconds and 30 days from now.");
  std::string token = store::random_string(48, store::kAlnum);
  json::array arr;
  for (const auto& r : resources) arr.emplace_back(r);
  const std::string hash = common::sha256_hex(token);
  // No snapshot rebuild and no generation bump: a new token changes nothing for
  // connected clients, and ApplyToken runs at API rates.
  auto r = transact(account_id, [&](store::Db& db) -> Status {
    db.run("INSERT INTO mq_tokens VALUES (?, ?, ?, ?, ?, ?, ?, 0)", hash, instance_id, account_id,
           json::serialize(arr), std::string(read && write_ ? "R,W" : read ? "R" : "W"), expire_time_ms, now);
    return {};
  });
  if (!r) return r.error();
  TokenInfo t;
  t.instance_id = instance_id;
  t.account_id = account_id;
  t.resources = resources;
  t.read = read;
  t.write = write_;
  t.expire_time_ms = expire_time_ms;
  t.created_at = now;
  std::unique_lock tl(tokens_mu_);
  tokens_[hash] = std::move(t);
  return token;
}

std::optional<TokenInfo> MqService::find_token(std::string_view token) const {
  return find_token_by_hash(common::sha256_hex(token));
}

std::optional<TokenInfo> MqService::find_token_by_hash(const std::string& hash) const {
  std::shared_lock lk(tokens_mu_);
  auto it = tokens_.find(hash);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

Result<TokenQuery> MqService::QueryToken(std::string_view account_id, std::string_view instance_id,
                                         std::string_view token) {
  auto t = find_token(token);
  if (!t || t->account_id != account_id || (!instance_id.empty() && t->instance_id != instance_id))
    return not_exist("EntityNotExist.Token", "The token does not exist (or belongs to another instance).");
  TokenQuery q;
  q.info = *t;
  q.valid = !t->revoked && t->expire_time_ms > now_ms();
  q.status = t->revoked ? "Revoked" : q.valid ? "Valid" : "Expired";
  return q;
}

Status MqService::RevokeToken(std::string_view account_id, std::string_view instance_id, std::string_view token) {
  auto t = find_token(token);
  if (!t || t->account_id != account_id || (!instance_id.empty() && t->instance_id != instance_id))
    return not_exist("EntityNotExist.Token", "The token does not exist (or belongs to another instance).");
  const std::string hash = common::sha256_hex(token);
  const int64_t cutoff = now_ms() - int64_t(7) * 24 * 3600 * 1000;
  auto r = transact(account_id, [&](store::Db& db) -> Status {
    db.run("UPDATE mq_tokens SET revoked = 1 WHERE token_hash = ?", hash);
    // Tokens long expired are of no use any more: keep the table small.
    db.run("DELETE FROM mq_tokens WHERE expire_ms < ?", cutoff);
    return {};
  });
  if (!r) return r;
  {
    std::unique_lock tl(tokens_mu_);
    if (auto it = tokens_.find(hash); it != tokens_.end()) it->second.revoked = true;
    std::erase_if(tokens_, [&](const auto& kv) { return kv.second.expire_time_ms < cutoff; });
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);  // connected holders re-check within 250 ms
  return r;
}

}  // namespace sluice::mq
