#pragma once
// Persistent sessions of a cluster (docs/cluster.md, "QoS 1 and 2: once in
// the log, a position per session").
//
// Each persistent session has one entry in the key-value bucket
// SLUICE_SESSIONS (key "<ns>.<client id>", both escaped): the node that holds
// it, its expiry, when it went offline, its subscriptions and its position in
// the message log SLUICE_MSG — the sequence up to which every logged message
// that matches it was delivered and acknowledged (or dropped by a bound).
// Nothing is copied per session: a session's queue is the log after its
// position, filtered by its subscriptions.
//
//  - The holder learns what to write from the broker's persistence records
//    (ClusterDurability hands them over: session saved / offline / ended,
//    subscriptions, each queued message with its log sequence, each one done),
//    and writes every 250 ms what changed, by compare-and-set on the entry's
//    revision: a node that finds the entry written by another node since is a
//    stale holder and stops writing it (the revision fences it).
//  - Every node watches the bucket (a mirror in memory), so a CONNECT decides
//    from memory whether a session exists elsewhere: it resumes at once with
//    its subscriptions and session-present, and its deliveries are held while
//    a worker reads the log from the position, filtered by the subscriptions;
//    then the replay and the held messages are delivered in the log's order.
//  - A takeover from a live holder: the claim (ClusterDirectory) makes the
//    holder end its session; it writes the final position and marks the entry
//    released; the new node waits for that (at most 3 s, or not at all when
//    the holder's lease ran out) before reading the log.
//  - The entry also lists what a position cannot say: the log sequences its
//    shared subscriptions brought it and it has not acknowledged (the
//    cluster gave those to this member, not the others: a replay elsewhere
//    brings exactly those back), and its QoS 2 exchanges in the middle
//    (incoming ids not released; outgoing messages PUBREC'd, whose PUBREL the
//    new node sends again instead of the message).
//  - A session that ends (expiry, clean start anywhere) is marked ended ("-").
//    Sessions of a dead node are marked offline by a survivor and expire as
//    their expiry says.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "broker/cluster.hpp"
#include "broker/persistence.hpp"

namespace sluice::broker {
class Broker;
class Dispatcher;
class Session;
}  // namespace sluice::broker

namespace sluice::cluster {

class NatsLink;
class NodeLeases;
class SharedGroups;
struct NatsMessage;

struct SessionStats {
  std::atomic<uint64_t> resumed{0}, replayed{0}, handed_over{0}, fenced{0}, expired{0}, writes{0}, failed_writes{0};
  std::atomic<uint64_t> held{0};  // persistent sessions this node holds now (online or offline)
};

// One entry of the bucket, as stored.
struct StoredSession {
  std::string owner;      // the node holding it (or that last held it)
  bool released = false;  // its holder let it go (takeover) or died: the next node may take it
  uint32_t expiry_s = 0;
  int64_t offline_wall_ms = 0;  // 0: online at its holder
  int64_t written_wall_ms = 0;
  uint64_t position = 0;
  std::vector<std::pair<std::string, broker::SubOptions>> subscriptions;
  // What the session published under on its recent holders (node, session
  // serial: the log's Sl-N and Sl-O headers), newest first: a replay on
  // another node honours No Local for messages it published there.
  std::vector<std::pair<std::string, uint64_t>> origins;
  // Log sequences a shared subscription brought the session and it has not
  // acknowledged (sorted): the cluster gave these to this session, so a
  // replay elsewhere brings them back (the others went to other members).
  std::vector<uint64_t> shared;
  // QoS 2 in the middle of its exchange (MQTT 4.3.3): incoming ids received
  // and not released; outgoing messages PUBREC'd, waiting for PUBCOMP, as
  // (log sequence, packet id). Carried so a move keeps exactly once.
  std::vector<uint16_t> incoming_qos2;
  std::vector<std::pair<uint64_t, uint16_t>> pubrecd;
  // Outgoing QoS 1 / 2 messages sent and not acknowledged yet (no PUBACK /
  // PUBREC), as (log sequence, packet id): the new node sends them again with
  // the same id and DUP set (MQTT 4.4), so the client sees a duplicate, not a
  // new message.
  std::vector<std::pair<uint64_t, uint16_t>> sent;
  // The log sequence its holder had routed when it wrote the entry: every
  // share the holder decided up to there is in `shared` (or acknowledged).
  // 0: not said (an older node's entry; the position stands in).
  uint64_t frontier = 0;
  // Released by a survivor because its holder died: the holder's share
  // decided after `frontier` was never written (docs/cluster.md, "A dead
  // holder's share").
  bool dead = false;

  std::string encode() const;
  static std::optional<StoredSession> decode(std::string_view v);
};

class ClusterSessions {
 public:
  static constexpr const char* kBucket = "SLUICE_SESSIONS";
  static constexpr const char* kEnded = "-";  // an entry's value once the session ended

  ClusterSessions(NatsLink& link, NodeLeases& leases, std::string node);
  ~ClusterSessions();

  // Starts the mirror, the writer and the replay worker; the node's log
  // consumer starts after `log_start` (its sequence now).
  void start(broker::Broker& broker, broker::Dispatcher& d, uint64_t log_start);
  void stop();
  const SessionStats& stats() const { return stats_; }
  // Before start(): the groups' views, for recomputing a dead holder's share.
  void set_shared(const SharedGroups* g) { shared_groups_ = g; }
  // Whether an entry of `node` (not ended) lists a member of the shared
  // group `digest` (SharedGroups::digest): a dead node that still parks an
  // offline member goes on counting in the group (its share waits in the log).
  bool parks(const std::string& digest, const std::string& node) const;
  // What this node has routed of the log.
  uint64_t frontier() const { return frontier_.load(std::memory_order_acquire); }

  // A persistence record (any loop; cheap, no I/O).
  void record(const broker::PersistRecord& r);
  // Loop 0, after the logged message `log_seq` was routed on this node.
  void routed(uint64_t log_seq) { frontier_.store(log_seq, std::memory_order_release); }
  // Another node's claim takes `client_id` from this node: its session's end
  // is a hand-over (final position, released), not the end of the session.
  void handing_over(std::string_view ns, std::string_view client_id);

  // broker::SessionDirectory::resumable / resume.
  std::optional<broker::SessionDirectory::Resumable> resumable(std::string_view ns, std::string_view client_id,
                                                               bool clean_start);
  void resume(broker::Namespace& ns, const std::shared_ptr<broker::Session>& s);

  static std::string key_of(std::string_view ns, std::string_view client_id);

 private:
  struct Mirrored {
    std::optional<StoredSession> st;  // nullopt: ended
    uint64_t revision = 0;
  };
  // A persistent session held here, by its store key.
  struct Local {
    std::string ns, client_id, kv_key;
    uint32_t expiry_s = 0;
    int64_t offline_wall_ms = 0;
    std::map<std::string, broker::SubOptions, std::less<>> subs;
    std::multiset<uint64_t> pending;  // log sequences queued or in flight, not acknowledged
    std::multiset<uint64_t> shared;   // those of them a shared subscription brought
    std::set<uint16_t> qos2_in;       // incoming QoS 2 ids not released yet
    std::map<uint64_t, std::pair<uint64_t, uint16_t>> released;  // by record seq: (log seq, id) PUBREC'd
    std::map<uint64_t, std::pair<uint64_t, uint16_t>> sent;      // by record seq: (log seq, id) not acked
    uint64_t floor = 0;               // the position is never below this
    bool replaying = false;           // resumed: the position stays at floor until the replay ends
    bool dirty = true;
    uint64_t written_position = ~0ull;
    bool fenced = false;
    bool took = false;   // this node has written the entry for this session
    uint64_t serial = 0;  // the broker session's serial here (its messages' origin)
    std::vector<std::pair<std::string, uint64_t>> inherited;  // origins on earlier holders
    uint64_t rev = 0;    // the revision of its last write (what the next one expects)
  };
  struct Write {
    std::string kv_key;
    std::string value;  // "-": ended
    uint64_t store_key = 0;  // 0: a one-off write (release, end, sweep)
    // Compare-and-set on: this node's own last write (a holder), or on the
    // revision the mirror shows (a node taking the entry over).
    bool from_mirror = true;
    uint64_t expect = 0;
    int attempts = 0;
    bool holder_final = false;  // a holder's hand-over or end (retried past its own in-flight write)
    int64_t clean_start_ms = 0;  // an end by a clean start here (wall ms): dropped once a later claim overtook it
  };
  struct Job {
    std::string ns, client_id, kv_key;
    std::weak_ptr<broker::Session> session;
  };

  void apply(NatsMessage&& e);
  // Counts (delta +1) or uncounts (-1) the groups `st` parks (parked_mu_ held).
  void index_parked_locked(const std::string& kv_key, const StoredSession& st, int delta);
  // A resume of a dead holder's session with shared subscriptions: this node
  // writes the entry as its own first, so the dead node stops counting in the
  // groups, before the replay takes the log's end.
  void take_from_dead(const std::string& kv_key, const StoredSession& st);
  // An end by a clean start here that a later claim of another node overtook (mu_ held).
  bool overtaken_locked(const Write& w) const;
  uint64_t position_locked(const Local& l) const;
  StoredSession stored_locked(const Local& l) const;
  uint64_t mirror_revision_locked(const std::string& kv_key) const;
  uint64_t mirror_revision(const std::string& kv_key) const;
  void writer_loop();
  void flush();
  // At stop: every held session's entry released (written once more).
  void release_all();
  static constexpr int64_t kReleaseBudgetMs = 2000;
  void sweep();
  // session_resume.cpp: the worker that reads a resumed session's messages back.
  void replay(Job job);
  void replay_loop();

  NatsLink& link_;
  NodeLeases& leases_;
  const std::string node_;
  SessionStats stats_;
  std::atomic<uint64_t> frontier_{0};
  broker::Broker* broker_ = nullptr;
  broker::Dispatcher* dispatcher_ = nullptr;
  const SharedGroups* shared_groups_ = nullptr;
  uint64_t watch_ = 0;
  int64_t started_wall_ = 0;

  mutable std::mutex mu_;
  std::unordered_map<std::string, Mirrored> mirror_;     // by kv key
  std::unordered_map<uint64_t, Local> local_;            // by store key
  std::unordered_map<std::string, uint64_t> by_kv_;      // kv key -> store key
  struct QueuedRef {
    uint64_t key = 0, log_seq = 0;
    bool shared = false;
  };
  std::unordered_map<uint64_t, QueuedRef> queued_;  // by pseq
  struct Resuming {
    uint64_t position = 0;
    std::vector<std::pair<std::string, uint64_t>> origins;
    std::vector<uint64_t> released;  // log seqs of QoS 2 messages adopted as PUBREC'd (sorted): not replayed
  };
  std::unordered_map<std::string, Resuming> resuming_;   // kv key -> its entry when resumed (not saved yet)
  std::unordered_map<std::string, int64_t> handover_;    // kv key -> when (wall ms)
  std::unordered_map<std::string, int64_t> overtaken_;   // kv key -> when another node's later claim came (wall ms)
  std::deque<Write> writes_;                             // one-off writes
  // By group digest: the owners of entries listing a member, with their count.
  mutable std::shared_mutex parked_mu_;
  std::unordered_map<std::string, std::map<std::string, int>> parked_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stopping_ = false;
  std::deque<Job> jobs_;
  std::thread writer_, replayer_;
};

}  // namespace sluice::cluster
