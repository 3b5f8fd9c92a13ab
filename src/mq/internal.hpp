#pragma once
// Helpers shared by the mq_*.cpp files (one per family of operations); not part
// of the public interface.
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "iam/errors.hpp"
#include "mq/mq_service.hpp"
#include "store/changes.hpp"
#include "store/db.hpp"
#include "store/retry.hpp"
#include "store/store.hpp"

namespace sluice::mq::detail {

using iam::err::already_exists;
using iam::err::invalid;
using iam::err::not_exist;

// Runs f; a storage exception becomes an error result (no exceptions cross
// the API): ServiceUnavailable when the store is out of reach, else InternalError.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const store::DbError& e) {
    if (e.kind == store::DbError::Kind::Unavailable)
      return iam::err::unavailable(std::string("The instance store is unreachable; nothing was changed. Try again "
                                               "shortly. (") + e.what() + ")");
    return iam::err::internal(std::string("storage error: ") + e.what());
  } catch (const std::exception& e) {
    return iam::err::internal(std::string("storage error: ") + e.what());
  }
}

// InvalidParameter.<field> with a message for a person.
Error bad(std::string field, std::string msg);
// A topic filter ('#' last, '+' a whole level), 1..1024 characters.
std::optional<Error> check_filter(std::string_view field, std::string_view filter);

std::optional<IdentityType> identity_type_from(std::string_view s);
std::optional<SignMode> sign_mode_from(std::string_view s);  // "" is ORIGIN
std::optional<PermitAction> permit_action_from(std::string_view s);
std::optional<PermitEffect> effect_from(std::string_view s);
// The additional data a custom-auth secret is sealed with: it cannot be moved to another identity.
std::string identity_aad(std::string_view instance_id, IdentityType t, std::string_view identity);

}  // namespace sluice::mq::detail

namespace sluice::mq {

template <class F>
auto MqService::transact(std::string_view account_id, F&& f, bool rebuild) {
  using R = std::invoke_result_t<F&, store::Db&>;
  // Run again when it lost a race with another node (store/retry.hpp).
  return detail::guarded([&]() -> R { return store::retrying([&]() -> R {
    std::lock_guard lk(store_->mutex());
    store::ChangeTx tx(store_->db(), *changes_);
    tx.touched(account_id);
    R r = f(store_->db());
    if (!r) return r;  // nothing committed
    tx.commit();
    if (rebuild) reload_locked();
    return r;
  }); });
}

template <class F>
auto MqService::write(std::string_view account_id, F&& f) {
  return transact(account_id, std::forward<F>(f), /*rebuild=*/true);
}

// One statement, in a transaction, that must change a row: else `missing`.
template <class... A>
Status MqService::change_one(std::string_view account_id, const Error& missing, std::string_view sql,
                             const A&... args) {
  return write(account_id, [&](store::Db& db) -> Status {
    if (db.run(sql, args...) == 0) return missing;
    return {};
  });
}

}  // namespace sluice::mq
