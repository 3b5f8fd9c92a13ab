// The account alias (RAM SetAccountAlias / GetAccountAlias / ClearAccountAlias)
// and the login suffixes that name an account. As in the cloud, an account's
// default alias is its id; a RAM user's sign-in and principal name is
// <user>@<alias>.onaliyun.com, and <user>@<alias> and the account-id forms name
// the same user. An alias is unique across accounts and never another
// account's id or root login name, so a suffix names at most one account.
#include <cctype>
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;

namespace {

constexpr std::string_view kDomain = ".onaliyun.com";

// The cloud's rule: 3-32 characters, lowercase letters, digits and '-', not
// starting or ending with '-'.
std::optional<Error> check_alias(std::string_view alias) {
  if (alias.size() < 3 || alias.size() > 32)
    return err::invalid("InvalidParameter.AccountAlias.Length",
                        "The parameter AccountAlias must be 3 to 32 characters long.");
  for (char ch : alias)
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '-'))
      return err::invalid("InvalidParameter.AccountAlias.InvalidChars",
                          "The parameter AccountAlias may contain only lowercase letters, digits and '-'.");
  if (alias.front() == '-' || alias.back() == '-')
    return err::invalid("InvalidParameter.AccountAlias.InvalidChars",
                        "The parameter AccountAlias must not begin or end with '-'.");
  return std::nullopt;
}

Status update_alias(store::Db& db, std::string_view account_id, const std::string& alias) {
  if (!db.query("SELECT 1 FROM accounts WHERE id = ?", account_id).step())
    return err::not_exist("EntityNotExist.Account", "The account " + std::string(account_id) + " does not exist.");
  if (db.query("SELECT 1 FROM accounts WHERE id <> ? AND (alias = ? OR id = ? OR login_name = ?)", account_id, alias,
               alias, alias)
          .step())
    return err::already_exists("EntityAlreadyExists.AccountAlias",
                               "The account alias \"" + alias + "\" is already used by another account.");
  db.run("UPDATE accounts SET alias = ? WHERE id = ?", alias, account_id);
  return {};
}

}  // namespace

namespace detail {
std::string account_suffix(std::string_view suffix) {
  std::string s = lower(suffix);
  if (s.size() > kDomain.size() && s.ends_with(kDomain)) s.resize(s.size() - kDomain.size());
  return s;
}
}  // namespace detail

Status IamService::set_account_alias(std::string_view account_id, std::string_view alias) {
  if (auto e = check_alias(alias)) return *e;
  return write_tx(account_id, [&](store::Db& db) { return update_alias(db, account_id, std::string(alias)); });
}

Status IamService::clear_account_alias(std::string_view account_id) {
  return write_tx(account_id, [&](store::Db& db) { return update_alias(db, account_id, std::string(account_id)); });
}

std::optional<std::string> IamService::account_of_suffix(std::string_view suffix) {
  const std::string s = account_suffix(suffix);
  if (s.empty()) return std::nullopt;
  auto r = guarded([&]() -> Result<std::string> {
    std::lock_guard lk(store_->mutex());
    if (auto q = store_->db().query("SELECT id FROM accounts WHERE alias = ? OR id = ?", s, s); q.step())
      return q.text(0);
    return err::not_exist("EntityNotExist.Account", "no such account");
  });
  if (!r) return std::nullopt;
  return *r;
}

}  // namespace sluice::iam
