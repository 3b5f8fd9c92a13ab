#pragma once
// `sluice admin` subcommands for the ApsaraMQ resources (src/mq): instance,
// topic, group, token, device-credential, custom-auth. Hooked from admin.cpp.
#include <functional>
#include <memory>
#include <string>

#include "iam/errors.hpp"

namespace CLI {
class App;
}
namespace sluice::store {
class Store;
}
namespace sluice::iam {
class IamService;
}

namespace sluice::app {

struct AdminMqHooks {
  std::function<iam::IamService&()> iam;                      // valid once the store is open
  std::function<std::shared_ptr<store::Store>()> store;
  std::function<iam::Result<std::string>(const std::string&)> resolve_account;  // id, alias or login
  int* rc = nullptr;                                           // the process exit code
};

void add_mq_commands(CLI::App& app, AdminMqHooks hooks);

}  // namespace sluice::app
