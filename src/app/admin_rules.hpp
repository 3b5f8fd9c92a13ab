#pragma once
// `sluice admin rules ...`: the data rules of an instance (issue 19,
// docs/rules.md) from the command line, over the same mq::MqService the API uses.
#include <functional>
#include <string>

#include "app/admin_account.hpp"

namespace CLI {
class App;
}

namespace sluice::app {

void add_rule_commands(CLI::App& app, MqCommandHooks hooks);

}  // namespace sluice::app
