#pragma once
// `sluice admin cert ...`: the CA and device certificate operations (issue 18)
// from the command line, over the same mq::MqService the API uses.
#include <functional>
#include <optional>
#include <string>

#include "iam/errors.hpp"

namespace CLI {
class App;
}
namespace sluice::mq {
class MqService;
}

namespace sluice::app {

struct AdminCertHooks {
  std::function<mq::MqService&()> mq;
  std::function<iam::Result<std::string>(const std::string&)> resolve_account;
  int* rc = nullptr;
};

void add_cert_commands(CLI::App& app, AdminCertHooks hooks);

}  // namespace sluice::app
