#pragma once
// Questions one node asks all the others and their answers, over NATS core
// request/reply (docs/cluster.md, "The management API across nodes"): the
// management API reaches one node, the client it asks about may be on
// another. What the questions mean is the answerer's business (the wiring
// plugs in mq::MqService::answer_peer); this only carries them.
//
// A question goes to the core subject "slp.all", every node but the asker
// answers "<node>\n<answer>" to the asker's inbox, and the asker waits until
// each node alive (NodeLeases) has answered, or kTimeoutMs. A node that is
// alive but silent costs one call that long, and its answer is missing; so
// does every call in the asker's first seconds (NodeLeases::kExpireMs), when
// it may not have heard every node yet and waits for whoever answers.
#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cluster {

class NatsLink;
class NodeLeases;

class PeerCalls {
 public:
  static constexpr const char* kSubject = "slp.all";
  static constexpr int64_t kTimeoutMs = 1500;
  using Answerer = std::function<std::string(std::string_view question)>;

  PeerCalls(NatsLink& link, const NodeLeases& leases, std::string node);
  ~PeerCalls();

  // Answers the other nodes' questions with `a` until stop().
  void start(Answerer a);
  // No more answers; returns once an answer under way is done (`a` may go then).
  void stop();
  // The other nodes' answers to `question` (in the order they came).
  std::vector<std::string> ask_all(std::string_view question);

 private:
  NatsLink& link_;
  const NodeLeases& leases_;
  const std::string node_;
  std::shared_mutex mu_;  // held shared while answering, exclusively by stop()
  Answerer answerer_;
  uint64_t sub_ = 0;
};

}  // namespace sluice::cluster
