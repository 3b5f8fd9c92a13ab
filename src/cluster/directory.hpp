#pragma once
// Who holds a client id, cluster-wide (docs/cluster.md, "Client ids").
//
// A CONNECT on any node claims its client id by appending "<node> <epoch>" to
// the stream SLUICE_CLAIMS (subject slc.<ns>.<client id>, the last claim of
// each kept). Every node follows the stream from its end, so all nodes see the
// claims in one order: a node whose own claim of a client id came earlier than
// another node's ends its session of it, and its connection gets Session taken
// over (0x8E). Among simultaneous connects the last claim in the stream wins on
// every node alike: exactly one survivor, without a round trip on the CONNECT
// path (the claim is an asynchronous publish, made in the namespace's order of
// local takeovers).
//
// A persistent session's state moves with it through ClusterSessions: an
// eviction here is a hand-over, and a CONNECT of a client id held elsewhere
// resumes its session from the bucket SLUICE_SESSIONS.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "broker/cluster.hpp"

namespace sluice::broker {
class Broker;
class Dispatcher;
}  // namespace sluice::broker

namespace sluice::cluster {

class NatsLink;
class ClusterSessions;
struct NatsMessage;

struct DirectoryStats {
  std::atomic<uint64_t> claims{0}, evictions{0}, failed_claims{0};
};

class ClusterDirectory final : public broker::SessionDirectory {
 public:
  static constexpr const char* kStream = "SLUICE_CLAIMS";
  static constexpr const char* kSubjects = "slc.>";

  ClusterDirectory(NatsLink& link, std::string node);
  ~ClusterDirectory() override;

  // Starts following the claims; evictions run on `d`'s loop 0.
  void start(broker::Broker& broker, broker::Dispatcher& d);
  void stop();
  const DirectoryStats& stats() const { return stats_; }

  // broker::SessionDirectory
  Claim claim(std::string_view ns, std::string_view client_id, bool resumes) override;
  void release(std::string_view ns, std::string_view client_id, uint64_t epoch) override;
  std::optional<Resumable> resumable(std::string_view ns, std::string_view client_id, bool clean_start) override;
  void resume(broker::Namespace& ns, const std::shared_ptr<broker::Session>& s) override;
  // Persistent sessions resumed from, and handed over to, other nodes.
  void set_sessions(ClusterSessions* s) { sessions_ = s; }

  // Whether a claim of the client id (by any node) was seen at or after
  // `since_ms` (broker::now_ms; remembered 10 minutes): it connected again somewhere.
  bool claimed_since(std::string_view ns, std::string_view client_id, int64_t since_ms);
  // The same, not counting the claim `own_claim` ("<node> <epoch>": the one
  // of the session whose will is due, which may reach this node late).
  bool claimed_again(std::string_view ns, std::string_view client_id, int64_t since_ms, std::string_view own_claim);

 private:
  struct Mine {
    uint64_t epoch = 0;
    bool seen = false;  // this node's claim is in the stream already
  };
  void on_claim(NatsMessage&& m);
  void publish_claim(std::string subject, std::string ns, std::string client_id, uint64_t epoch, bool resumes,
                     int attempt);

  NatsLink& link_;
  ClusterSessions* sessions_ = nullptr;
  const std::string node_;
  std::atomic<uint64_t> next_epoch_{0};
  DirectoryStats stats_;
  std::mutex mu_;
  std::unordered_map<std::string, Mine> mine_;  // by subject: this node's latest claim of each client id
  struct Seen {
    int64_t at = 0;  // now_ms when seen here
    std::string by;  // "<node> <epoch>"
  };
  std::unordered_map<std::string, Seen> last_claim_;  // by subject: the latest claim seen
  int64_t last_prune_ = 0;
  broker::Broker* broker_ = nullptr;
  broker::Dispatcher* dispatcher_ = nullptr;
  uint64_t follow_ = 0;
  bool stopping_ = false;
};

}  // namespace sluice::cluster
