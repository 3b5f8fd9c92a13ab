#pragma once
// The wiring between ApsaraMQ instances (src/mq) and the broker: one broker
// namespace per instance, created with the instance's limits and switches and
// its tracer, reconfigured on every change of the instance's settings
// (UpdateInstance applies at once: new connections, and connected ones on
// their next packet or tick); and the broker's sessions answering
// QuerySessionByClientId.
#include "broker/config.hpp"
#include "mq/model.hpp"

namespace sluice::broker {
class Broker;
}
namespace sluice::mq {
class MqService;
}

namespace sluice::app {

// The namespace limits of an instance: its settings within the broker's own.
broker::NamespaceConfig namespace_config(const mq::InstanceSettings& s, const broker::NamespaceConfig& defaults);

// Binds `mq`'s instances to `broker`'s namespaces, now and after every change.
// Call once at startup, before serving; both must outlive the binding's use.
void bind_mq_to_broker(mq::MqService& mq, broker::Broker& broker);

}  // namespace sluice::app
