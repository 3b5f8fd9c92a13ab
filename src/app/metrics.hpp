#pragma once
#include <string>

#include "broker/broker.hpp"
#include "net/server.hpp"

namespace sluice::app {

// Prometheus text exposition of the broker's counters and gauges.
std::string render_metrics(broker::Broker& b, const net::Server& s);

}  // namespace sluice::app
