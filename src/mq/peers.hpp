#pragma once
// The other nodes of a cluster, as the management API needs them (issue 17):
// QuerySessionByClientId, CloseConnection and the trace queries answer for the
// whole service, whichever node a call reaches (a load balancer in front of
// the nodes picks one). The transport is the wiring's (cluster::PeerCalls over
// NATS); the questions and answers are this layer's own (mq_peers.cpp), so
// the cluster knows nothing of sessions' or traces' shapes. On one node there
// are no peers and every answer is this node's own.
#include <string>
#include <string_view>
#include <vector>

namespace sluice::mq {

class PeerNodes {
 public:
  virtual ~PeerNodes() = default;
  // Asks every other node alive; their answers, in no order. A node that does
  // not answer within the transport's time limit is left out (its clients
  // look unknown, its traces absent, for this call).
  virtual std::vector<std::string> ask_all(std::string_view question) = 0;
};

}  // namespace sluice::mq
