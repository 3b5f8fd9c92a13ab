#pragma once
// What the broker tells an observer above it (issue 19: data rules and client
// status events, src/rules): a message published into a namespace, and a
// client's connection coming and going. The broker knows nothing of rules; a
// namespace without an observer pays one load and one branch per publish.
//
// Calls come on the event loop that saw the event and must not block: an
// observer queues what it needs and returns. An observer may note a durability
// ticket on `ctx` (the publisher's PUBACK then waits until it is durable).
#include <cstdint>
#include <string_view>

#include "broker/message.hpp"

namespace sluice::broker {

class Namespace;
class WorkerContext;

// The cloud's client status event types: a connection completed CONNECT; the
// client sent DISCONNECT; the TCP connection closed (always, after either).
enum class ClientEvent : uint8_t { Connect, Disconnect, TcpClean };

class Observer {
 public:
  virtual ~Observer() = default;
  // Every message published in `ns` (clients, wills, the API), before routing.
  virtual void published(Namespace& ns, const MessagePtr& m, WorkerContext& ctx) = 0;
  // `channel` names the connection for its life (unique in this process);
  // `peer` is "ip:port".
  virtual void client_event(Namespace& ns, ClientEvent e, std::string_view client_id, std::string_view peer,
                            uint64_t channel) = 0;
};

}  // namespace sluice::broker
