#pragma once
// The data rules engine (issue 19, docs/rules.md) wired to a running server:
// how rules publish into the broker (inflow, republish), when a JetStream
// inflow may acknowledge, when a replaced observer may be freed, and what the
// API's GetRule reports. serve.cpp calls start_rules once, before the
// listeners open, so the backlogs read back resume at once.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/persistence.hpp"

namespace sluice::broker {
class Broker;
}
namespace sluice::mq {
class MqService;
}
namespace sluice::net {
class Server;
}
namespace sluice::rules {
class RulesEngine;
}

namespace sluice::app {

// Whether the server's loops run: before they do, nothing can be inside an
// observer (freed at once) and nothing can be routed. serve.cpp sets `up`
// under `mu` around server.start().
struct LoopsGate {
  std::mutex mu;
  bool up = false;
};

std::shared_ptr<rules::RulesEngine> start_rules(net::Server& server, broker::Broker& broker, mq::MqService& mq,
                                                std::vector<broker::RecoveredRuleEntry> backlog,
                                                const std::string& data_dir, LoopsGate& loops);

}  // namespace sluice::app
