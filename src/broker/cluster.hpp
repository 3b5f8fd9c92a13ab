#pragma once
// The seams a second node plugs into (issue #17). Each has one implementation
// today, the single node's, which adds nothing to the single node's work:
//
// - MessageBus: after a publish has reached this node's own subscribers, the
//   bus gets it. LocalBus does nothing. A cluster bus hands it to the nodes
//   with matching subscriptions (and to the node holding a P2P target), which
//   route it with Namespace::publish_local: their own subscribers only, never
//   back onto the bus.
// - SessionDirectory: who holds a client id. At CONNECT the namespace claims
//   the client id; LocalSessionDirectory grants every claim at once (the
//   namespace's own session map is the whole truth on one node). A cluster
//   directory claims it cluster-wide with an epoch that fences a stale owner,
//   and says where a session to take over lives.
// - RetainedMessages (broker/retained_store.hpp): each namespace's retained
//   messages come from the factory set here; RetainedStore keeps them in this
//   process's memory. A cluster keeps them where every node sees them.
// - RemoteDelivery (broker/dispatch.hpp) names its session by key, not by a
//   pointer, so a hand-over never keeps a session alive or assumes it is here.
//
// The broker core calls these synchronously on an event loop. A cluster
// implementation must answer without blocking the loop (from a cache, or by
// completing later on the loop through Dispatcher::post); docs/architecture.md
// says where each call sits.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/dispatch.hpp"
#include "broker/message.hpp"

namespace sluice::broker {

class Namespace;
class RetainedMessages;
class Session;

class MessageBus {
 public:
  // What the bus does, as data the routing path reads without a call (the
  // single node pays nothing for the cluster's choices):
  //  - logged_loop_back: the bus brings QoS 1/2 messages back to this node
  //    (through Namespace::publish_local), so the publishing node does not
  //    route them to its own subscribers itself. A cluster sends them round its
  //    log and routes them in the log's order on every node, its own included.
  //  - picks_shared: see serves_shared.
  struct Traits {
    bool logged_loop_back = false;
    bool picks_shared = false;
  };
  MessageBus() = default;
  explicit MessageBus(Traits t) : traits_(t) {}
  virtual ~MessageBus() = default;
  const Traits& traits() const { return traits_; }
  bool loops_back(const Message& m) const { return traits_.logged_loop_back && m.qos > 0; }
  // A message published on this node (or by its housekeeping: a will), after
  // it has been routed to this node's subscribers. May note a durability
  // ticket on `ctx` (the publisher's acknowledgement then waits for it).
  virtual void forward(Namespace& ns, const MessagePtr& m, WorkerContext& ctx) = 0;
  // A P2P message ("<parent>/p2p/<clientId>") whose target has no session here.
  virtual void forward_p2p(Namespace& ns, std::string_view client_id, const MessagePtr& m, WorkerContext& ctx) = 0;
  // A subscription filter ("$share/g/f" included) that this node holds for the
  // first time in `ns` / no longer holds: a cluster bus asks for (or stops
  // asking for) the messages that match it. Called under the namespace's locks:
  // must not call back into the namespace.
  virtual void interest_added(Namespace& ns, std::string_view filter) {
    (void)ns, (void)filter;
  }
  virtual void interest_removed(Namespace& ns, std::string_view filter) {
    (void)ns, (void)filter;
  }
  // Shared subscriptions with members on several nodes: with traits().picks_shared,
  // routing asks serves_shared for each matching group with members here, and
  // delivers to one of them only if it says this node serves `m` (a cluster
  // picks one node per message, the same on every node). Called under the
  // trie's lock, once per group and message: must be cheap and not block.
  virtual bool serves_shared(Namespace& ns, std::string_view group, std::string_view filter, const Message& m) {
    (void)ns, (void)group, (void)filter, (void)m;
    return true;
  }

 private:
  Traits traits_;
};

class LocalBus final : public MessageBus {
 public:
  void forward(Namespace&, const MessagePtr&, WorkerContext&) override {}
  void forward_p2p(Namespace&, std::string_view, const MessagePtr&, WorkerContext&) override {}
};

class SessionDirectory {
 public:
  struct Claim {
    uint64_t epoch = 0;     // this holder's turn; a higher epoch fences this one out
    bool elsewhere = false;  // the session lives on another node: take it over from there first
  };
  virtual ~SessionDirectory() = default;
  // A CONNECT for `client_id` in namespace `ns`; `resumes`: without clean
  // start, so a session held elsewhere goes on here rather than ending (its
  // delayed will is cancelled there, not sent: MQTT 5 3.1.3.2.2).
  virtual Claim claim(std::string_view ns, std::string_view client_id, bool resumes) = 0;
  // The session of `client_id` ended on this node (clean start, expiry, clean disconnect).
  virtual void release(std::string_view ns, std::string_view client_id, uint64_t epoch) = 0;

  // A persistent session this node does not hold but the cluster does (held
  // by another node, or left by a node that died). At a CONNECT without clean
  // start and without a session here, `resumable` answers from memory (no
  // round trip): the session's subscriptions, or nullopt (none: a new
  // session). With clean start it forgets the cluster's copy. The namespace
  // then makes the session, subscribes it, holds its deliveries
  // (Session::hold) and calls `resume`, which brings the messages the session
  // has not acknowledged (asynchronously) and ends the hold
  // (Session::finish_replay). One node has nothing to resume from elsewhere.
  struct Resumable {
    std::vector<std::pair<std::string, SubOptions>> subscriptions;
    // Its QoS 2 exchanges in the middle (Session::adopt_qos2): incoming ids not
    // released yet; outgoing (packet id, log sequence) PUBREC'd, waiting for PUBCOMP.
    std::vector<uint16_t> incoming_qos2;
    std::vector<std::pair<uint16_t, uint64_t>> released;
    // Outgoing QoS 1 / 2 (packet id, log sequence) sent and not acknowledged:
    // the replay sends them again with that id and DUP set.
    std::vector<std::pair<uint16_t, uint64_t>> sent;
  };
  virtual std::optional<Resumable> resumable(std::string_view ns, std::string_view client_id, bool clean_start) {
    (void)ns, (void)client_id, (void)clean_start;
    return std::nullopt;
  }
  virtual void resume(Namespace& ns, const std::shared_ptr<Session>& s) { (void)ns, (void)s; }
};

class LocalSessionDirectory final : public SessionDirectory {
 public:
  Claim claim(std::string_view, std::string_view, bool) override { return Claim{++epoch_, false}; }
  void release(std::string_view, std::string_view, uint64_t) override {}

 private:
  std::atomic<uint64_t> epoch_{0};
};

// Makes the retained-message store of a namespace (by its id).
using RetainedFactory = std::function<std::unique_ptr<RetainedMessages>(std::string_view ns)>;

// What a Broker plugs its namespaces into; set before any namespace exists.
struct ClusterSeams {
  std::shared_ptr<MessageBus> bus;
  std::shared_ptr<SessionDirectory> directory;
  RetainedFactory retained;
  // The single node's: LocalBus, LocalSessionDirectory, RetainedStore.
  static ClusterSeams single_node();
};

}  // namespace sluice::broker
