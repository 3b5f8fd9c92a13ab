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
#include "store/store.hpp"

namespace sluice::iam::detail {

// Runs f; a storage exception becomes InternalError (no exceptions cross the API).
template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return err::internal(std::string("storage error: ") + e.what());
  }
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

// Console login generations (iam_console.cpp): counters in the meta table that
// move on every change of a user's password or login profile. Call inside the
// write transaction that makes the change; returns the new value.
int64_t bump_user_login_generation(store::Db& db, std::string_view account_id, std::string_view user_name);
int64_t user_login_generation(store::Db& db, std::string_view account_id, std::string_view user_name);
// When the user itself goes (its id is never reused).
void forget_user_login_generation(store::Db& db, std::string_view account_id, std::string_view user_name);

}  // namespace sluice::iam::detail

namespace sluice::iam {

// A write transaction on identity tables (BEGIN IMMEDIATE). It keeps the
// service's change feed informed, so that only other connections' identity
// writes look like external changes. Call with the store mutex held.
struct IamTx {
  explicit IamTx(IamService& s) : tx(s.store_->db(), *s.changes_) {}
  void touched(std::string_view account_id) { tx.touched(account_id); }
  void commit() { tx.commit(); }
  store::ChangeTx tx;
};

template <class F>
auto IamService::write_tx(std::string_view account_id, F&& f) {
  using R = std::invoke_result_t<F&, store::Db&>;
  return detail::guarded([&]() -> R {
    std::lock_guard lk(store_->mutex());
    IamTx tx(*this);
    tx.touched(account_id);
    R r = f(store_->db());
    if (!r) return r;  // nothing committed
    tx.commit();
    bump(account_id);
    return r;
  });
}

}  // namespace sluice::iam
