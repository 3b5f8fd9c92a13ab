#pragma once
// Helpers shared by the iam_*.cpp files; not part of the public interface.
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "iam/errors.hpp"
#include "iam/iam_service.hpp"
#include "iam/model.hpp"
#include "store/crypto.hpp"
#include "store/changes.hpp"
#include "store/db.hpp"
#include "store/retry.hpp"
#include "store/store.hpp"

namespace sluice::iam::detail {

// Runs f; a storage exception becomes an error result (no exceptions cross
// the API): ServiceUnavailable when the store is out of reach, else InternalError.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const store::DbError& e) {
    if (e.kind == store::DbError::Kind::Unavailable)
      return err::unavailable(std::string("The identity store is unreachable; nothing was changed. Try again "
                                          "shortly. (") + e.what() + ")");
    return err::internal(std::string("storage error: ") + e.what());
  } catch (const std::exception& e) {
    return err::internal(std::string("storage error: ") + e.what());
  }
}
// guarded() around a whole write transaction that is run again when it lost a
// race with another node (store/retry.hpp).
template <class F>
auto guarded_tx(F&& f) -> decltype(f()) {
  return guarded([&] { return store::retrying(f); });
}

// Checks `s` is 1..max chars (min chars) drawn from letters, digits and `extra`.
// Produces InvalidParameter.<field>.Length / .InvalidChars.
std::optional<Error> check_name(std::string_view field, std::string_view s, size_t min, size_t max,
                                std::string_view extra);
std::optional<Error> check_length(std::string_view field, std::string_view s, size_t min, size_t max);

std::string numeric_id(size_t digits);  // first digit non-zero
std::string key_for(std::string_view a, std::string_view b, std::string_view c = {});

PrincipalType principal_type_from(std::string_view s, bool* ok);
PolicyType policy_type_from(std::string_view s, bool* ok);
KeyStatus key_status_from(std::string_view s);

std::string lower(std::string_view s);
// A login's or principal name's suffix as stored: lowercased, without a
// trailing ".onaliyun.com" (iam_alias.cpp). Matches an alias or an account id.
std::string account_suffix(std::string_view suffix);

// The column that orders attachments made in the same second as they were
// made: SQLite's rowid; on PostgreSQL an identity column (iam/schema.cpp, step 3).
inline std::string insertion_order(store::Db& db) {
  return db.dialect() == store::Dialect::Postgres ? "seq" : "rowid";
}

// Console login generations (iam_console.cpp): counters in the meta table that
// move on every change of a user's password or login profile. Call inside the
// write transaction that makes the change; returns the new value.
int64_t bump_user_login_generation(store::Db& db, std::string_view account_id, std::string_view user_name);
int64_t user_login_generation(store::Db& db, std::string_view account_id, std::string_view user_name);
// When the user itself goes (its id is never reused).
void forget_user_login_generation(store::Db& db, std::string_view account_id, std::string_view user_name);

// A user from a row whose first columns are, in order: account_id, name,
// user_id, display_name, comments, created_at, updated_at, email,
// mobile_phone (iam_users.cpp, also for a group's members).
User read_user(store::Stmt& q);

}  // namespace sluice::iam::detail

namespace sluice::iam {

// A write transaction on identity tables (SQLite: BEGIN IMMEDIATE;
// PostgreSQL: SERIALIZABLE). It keeps the service's change feed informed of
// the account it changes, so that only other connections' identity writes
// look like external changes, and other nodes hear whose state changed. Call
// with the store mutex held, inside guarded_tx (run again on a lost race).
struct IamTx {
  IamTx(IamService& s, std::string_view account_id) : tx(s.store_->db(), *s.changes_) {
    if (!account_id.empty()) touched(account_id);
  }
  void touched(std::string_view account_id) { tx.touched(account_id); }
  void commit() { tx.commit(); }
  store::ChangeTx tx;
};

template <class F>
auto IamService::write_tx(std::string_view account_id, F&& f) {
  using R = std::invoke_result_t<F&, store::Db&>;
  return detail::guarded_tx([&]() -> R {
    std::lock_guard lk(store_->mutex());
    IamTx tx(*this, account_id);
    R r = f(store_->db());
    if (!r) return r;  // nothing committed
    tx.commit();
    bump(account_id);
    return r;
  });
}

}  // namespace sluice::iam
