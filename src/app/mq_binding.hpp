#pragma once
// The wiring between ApsaraMQ instances (src/mq) and the broker: one broker
// namespace per instance, created with the instance's limits and switches and
// its tracer, reconfigured on every change of the instance's settings
// (UpdateInstance applies at once: new connections, and connected ones on
// their next packet or tick); and the broker's sessions answering
// QuerySessionByClientId; in a cluster, the other nodes asked and answered
// through cluster::PeerCalls.
#include "broker/config.hpp"
#include "mq/model.hpp"

namespace sluice::broker {
class Broker;
}
namespace sluice::mq {
class MqService;
}
namespace sluice::cluster {
class PeerCalls;
}

namespace sluice::app {

// The namespace limits of an instance: its settings within the broker's own.
broker::NamespaceConfig namespace_config(const mq::InstanceSettings& s, const broker::NamespaceConfig& defaults);

// Binds `mq`'s instances to `broker`'s namespaces, now and after every change.
// Call once at startup, before serving; both must outlive the binding's use.
void bind_mq_to_broker(mq::MqService& mq, broker::Broker& broker);

// A node of a cluster: `mq` answers the other nodes' questions through `calls`
// and asks them its own (sessions, closes, traces held elsewhere). Call once,
// before the API serves; stop `calls` before `mq` goes.
void bind_mq_to_peers(mq::MqService& mq, cluster::PeerCalls& calls);

}  // namespace sluice::app
