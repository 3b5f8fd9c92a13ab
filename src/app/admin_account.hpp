#pragma once
// The one shape of a `sluice admin` subcommand that acts in an account:
// resolve --account (id, alias or login), run the action, and on an error
// print "error: CODE: message" and set the process exit code. Shared by the
// instance, certificate and rule commands (admin_mq.cpp, admin_certs.cpp,
// admin_rules.cpp).
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include "iam/errors.hpp"

namespace sluice::mq {
class MqService;
}

namespace sluice::app {

using ResolveAccount = std::function<iam::Result<std::string>(const std::string&)>;
using AccountAction = std::function<std::optional<iam::Error>(const std::string& account_id)>;

inline int print_error(const iam::Error& e) {
  std::cerr << "error: " << e.code << ": " << e.message << "\n";
  return 1;
}

// A CLI callback: `*account` is read when it runs (after CLI11 parsed it).
inline std::function<void()> in_account(ResolveAccount resolve, const std::string* account, int* rc,
                                        AccountAction f) {
  return [resolve = std::move(resolve), account, rc, f = std::move(f)] {
    auto acct = resolve(*account);
    if (!acct) {
      *rc = print_error(acct.error());
      return;
    }
    if (auto e = f(*acct)) *rc = print_error(*e);
  };
}

// What the certificate and rule commands need from admin_mq.cpp.
struct MqCommandHooks {
  std::function<mq::MqService&()> mq;  // built on first use, after the store is open
  ResolveAccount resolve_account;
  int* rc = nullptr;  // the process exit code
};

}  // namespace sluice::app
