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

// The per-instance families (connections, messages in / out, denials, queue
// depth), labelled instance="ID": at most 100 instances get their own series, the
// rest are summed as instance="_other" (part of render_metrics).
void render_instance_metrics(std::string& out, broker::Broker& b);

}  // namespace sluice::app
