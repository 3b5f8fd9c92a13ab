#pragma once
// `sluice admin rules ...`: the data rules of an instance (issue 19,
// docs/rules.md) from the command line, over the same mq::MqService the API uses.
#include <functional>
#include <string>

#include "iam/errors.hpp"

namespace CLI {
class App;
}
namespace sluice::mq {
class MqService;
}

namespace sluice::app {

struct AdminRuleHooks {
  std::function<mq::MqService&()> mq;
  std::function<iam::Result<std::string>(const std::string&)> resolve_account;
  int* rc = nullptr;
};

void add_rule_commands(CLI::App& app, AdminRuleHooks hooks);

}  // namespace sluice::app
