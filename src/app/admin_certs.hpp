#pragma once
// `sluice admin cert ...`: the CA and device certificate operations (issue 18)
// from the command line, over the same mq::MqService the API uses.
#include <functional>
#include <optional>
#include <string>

#include "app/admin_account.hpp"

namespace CLI {
class App;
}

namespace sluice::app {

void add_cert_commands(CLI::App& app, MqCommandHooks hooks);

}  // namespace sluice::app
