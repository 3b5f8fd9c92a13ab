#pragma once
// The broker's durable state, seen from the broker: a stream of change records
// (session created / ended, subscription added / removed, message queued for a
// persistent session / acknowledged, QoS 2 state, retained set / cleared, will
// scheduled / cancelled) handed to a Persistence that stores them off the event
// loops, and the state read back at start (Recovered). The broker never sees
// SQLite; src/store implements this.
//
// Only what a restart must restore is recorded: QoS 1/2 messages that reach a
// session with an expiry (clean_start=false / Session Expiry > 0), retained
// messages, the sessions themselves, and the wills of open connections. QoS 0
// and clean sessions without a will cost nothing.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "broker/message.hpp"

namespace sluice::broker {

struct PersistRecord {
  enum class Kind : uint8_t {
    SessionSaved,      // key, ns, client_id, expiry_s (insert or update; at CONNECT: online)
    SessionOffline,    // key, wall_ms = when it disconnected
    SessionEnded,      // key: the session and everything it held are gone
    SubscriptionAdded,  // key, text = filter, options
    SubscriptionRemoved,  // key, text = filter
    MessageQueued,     // key, seq (= this record's ticket), message, qos, retain, options.subscription_id
    MessageSent,       // seq, packet_id: a QoS 2 PUBLISH went out with this id (QoS 1 too when keeps_qos1_ids())
    MessageReleased,   // seq, packet_id: PUBREC received (PUBREL sent), waiting for PUBCOMP
    MessageDone,       // seq: acknowledged, dropped or expired
    IncomingQos2,      // key, packet_id: a QoS 2 id received (until PUBREL)
    IncomingQos2Done,  // key, packet_id
    RetainedSet,       // ns, text = topic, message
    RetainedCleared,   // ns, text = topic
    WillScheduled,     // key, message, wall_ms = when it is due (ns, client_id, seq = epoch, text = identity: for a cluster)
    WillCancelled,     // key
    // The will of a connection that is open now (any session, clean or not), so
    // that a crash cannot swallow it: after a restart it goes out as if the
    // connection had dropped at the restart. Removed at the connection's close.
    WillArmed,         // key (its own, from new_session_key), ns, client_id, message, expiry_s = will delay
                       // (text = the client's identity when wants_will_identity())
    WillDisarmed,      // key
    // Issue 19: a message or status event waiting for a rule's target (src/rules),
    // kept until the target has it, so that an acknowledged QoS 1 message reaches
    // the target also across a crash. The broker never writes these itself.
    RuleQueued,        // seq (= this record's ticket), text = rule key, message
    RuleDone,          // seq: the target has it (or it was dead-lettered)
  };
  Kind kind;
  uint64_t key = 0;       // the session's store key
  uint64_t seq = 0;       // a queued message's sequence number
  uint16_t packet_id = 0;
  uint8_t qos = 0;
  bool retain = false;
  uint32_t expiry_s = 0;
  int64_t wall_ms = 0;
  std::string ns, client_id, text;
  SubOptions options;
  MessagePtr message;
};

class Persistence {
 public:
  virtual ~Persistence() = default;
  // Queues a record for the writer and returns its ticket (increasing; a
  // MessageQueued record's seq is its ticket). Never blocks on disk.
  virtual uint64_t submit(PersistRecord&& r) = 0;
  // Issue 19, a rule's backlog records without a PersistRecord each (on the
  // publishing loop, per message): RuleQueued of `m` for the rule whose key is
  // `rule_key` (shared, not copied), returning its ticket (= the entry's seq);
  // `may_hold`: the store may keep it in memory for its target (rule_hold_ms;
  // false for a rule whose target is failing or behind: written at once);
  // RuleDone of `n` seqs in one call (one lock, not one per entry).
  virtual uint64_t submit_rule_queued(const std::shared_ptr<const std::string>& rule_key, const MessagePtr& m,
                                      bool /*may_hold*/) {
    PersistRecord r{PersistRecord::Kind::RuleQueued};
    r.text = *rule_key;
    r.message = m;
    return submit(std::move(r));
  }
  virtual void submit_rule_done(const uint64_t* seqs, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      PersistRecord r{PersistRecord::Kind::RuleDone};
      r.seq = seqs[i];
      submit(std::move(r));
    }
  }
  // How long a rule's entry may wait for its target before the store writes
  // it (0: written at once). While it waits, RuleDone is best sent as soon as
  // the target has the entry: it then never touches the disk.
  virtual int rule_hold_ms() const { return 0; }
  // A fresh session key (unique across restarts).
  virtual uint64_t new_session_key() = 0;
  // True when PUBACK / PUBREC must wait until the message is durable
  // (fsync = always | batch); false for fsync = off.
  virtual bool acks_wait() const = 0;
  // The newest ticket already durable (thread-safe).
  virtual uint64_t durable() const = 0;
  // True when will records must carry their client's identity (text): a
  // cluster, whose survivors re-check a dead node's wills. One node has the
  // guard itself and stores no identity.
  virtual bool wants_will_identity() const { return false; }
  // True when MessageSent records are wanted for QoS 1 too: a cluster, whose
  // sessions move to another node that resends them under the same id. One
  // node keeps a QoS 1 message's id in memory only (a restart resends it
  // under a new one) and stores no such record.
  virtual bool keeps_qos1_ids() const { return false; }
};

// The state read back at start-up, before any client connects.
struct RecoveredEntry {
  uint64_t seq = 0;
  MessagePtr message;
  uint8_t qos = 1;
  bool retain = false;
  uint32_t subscription_id = 0;
  uint16_t packet_id = 0;  // QoS 2 sent with this id (0: not sent yet, or QoS 1)
  bool released = false;   // QoS 2: PUBREC received, waiting for PUBCOMP
};

struct RecoveredSession {
  uint64_t key = 0;
  std::string ns, client_id;
  uint32_t expiry_s = 0;
  int64_t disconnected_wall_ms = 0;  // 0: was connected when the server stopped
  std::vector<std::pair<std::string, SubOptions>> subscriptions;
  std::vector<RecoveredEntry> entries;  // in queue order
  std::vector<uint16_t> incoming_qos2;
  MessagePtr will;
  int64_t will_due_wall_ms = 0;
};

// The will of a connection that was open when the server stopped (WillArmed).
struct RecoveredWill {
  uint64_t key = 0;
  std::string ns, client_id;
  MessagePtr will;
  uint32_t delay_s = 0;
};

// An entry of a rule's backlog (RuleQueued not yet RuleDone), in seq order.
struct RecoveredRuleEntry {
  uint64_t seq = 0;
  std::string rule;  // the rule's key
  MessagePtr message;
};

struct Recovered {
  std::vector<RecoveredSession> sessions;
  std::vector<RecoveredWill> live_wills;  // in arming order
  std::vector<std::pair<std::string, MessagePtr>> retained;  // namespace id, message
  std::vector<RecoveredRuleEntry> rule_entries;               // issue 19
};

// Wall clock (ms since the epoch): what persisted times are kept in, since the
// monotonic clock restarts with the machine.
int64_t wall_ms();

}  // namespace sluice::broker
