#pragma once
#include <string>

#include "broker/broker.hpp"
#include "net/server.hpp"

namespace sluice::cluster {
class ClusterNode;
}

namespace sluice::app {

// Prometheus text exposition of the broker's counters and gauges.
// `node`: this process is a node of a cluster; its figures follow (labelled node="NAME").
std::string render_metrics(broker::Broker& b, const net::Server& s, const cluster::ClusterNode* node = nullptr);

}  // namespace sluice::app
