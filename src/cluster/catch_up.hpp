#pragma once
// Reading decisions back from the message log (docs/cluster.md, "A dead
// holder's share"): every QoS 1/2 message is stored once in SLUICE_MSG, so
// what a node that died would have delivered is not lost with it, only its
// decision; a survivor reads the log over the range the dead node decided and
// recomputes, by rendezvous hashing, which messages were the dead node's.
//
// Used by a persistent session's resume (ClusterSessions::replay: its share
// of shared subscriptions after its dead holder's written frontier) and by a
// survivor re-deciding a dead member node's share (SharedFailover: after the
// frontier of the dead node's last heartbeat, docs/cluster.md "A dead member
// node's share").
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/message.hpp"

namespace sluice::cluster {

class NatsLink;
class SharedGroups;

// A logged message read back: a copy with its log sequence and route key
// set (origin 0: the caller decides what No Local compares it with), and the
// envelope's node and origin (the publishing node and session serial).
struct LoggedCopy {
  std::shared_ptr<broker::Message> message;
  std::string node;
  uint64_t origin = 0;
};

// The log's last sequence now, asked for up to 5 s; nullopt when JetStream
// did not answer.
std::optional<uint64_t> log_end(NatsLink& link);

// The messages of namespace `ns` in the log's range (lo, upto], in log order.
// Waits until the reading consumer has nothing pending up to `upto` (or the
// log stops answering for 10 s: then what was read, with a warning naming
// `what`).
std::vector<LoggedCopy> read_log(NatsLink& link, std::string_view ns, uint64_t lo, uint64_t upto,
                                 std::string_view what);

// The member nodes a dead node's share of the group ($share/<group>/<inner>
// in `ns`) is recomputed among: those that count now in `groups` and had
// joined at `frontier` already (one that joined later may have won nothing
// then), and `owner` itself. By rendezvous hashing, a message `owner` won
// among the members of its time is won by it among this subset too.
std::vector<std::string> share_deciders(const SharedGroups& groups, std::string_view ns, std::string_view group,
                                        std::string_view inner, const std::string& owner, uint64_t frontier);

// Whether `node` wins message `m` among `nodes` (not empty).
bool wins_among(const std::vector<std::string>& nodes, const std::string& node, const broker::Message& m);

}  // namespace sluice::cluster
