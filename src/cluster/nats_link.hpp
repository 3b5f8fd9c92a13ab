#pragma once
// One node's connection to the NATS cluster (libnats, Debian's libnats-dev):
// core subjects, JetStream streams and key-value buckets, request/reply. The
// rest of src/cluster talks to NATS only through this class, so libnats's
// types stay in nats_link.cpp.
//
// Threading: handlers run on libnats's delivery threads, never on an event
// loop; they must hand work to the loops (Dispatcher::post) and return quickly.
// Every method may be called from any thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::cluster {

struct NatsMessage {
  std::string subject;
  std::string data;
  std::map<std::string, std::string> headers;
  std::string reply;         // request/reply: where to answer (empty: none)
  uint64_t stream_seq = 0;   // JetStream: the message's sequence in its stream
  uint64_t pending = 0;      // JetStream: messages still to come for this consumer (its filter)
};

struct NatsOptions {
  std::vector<std::string> urls;  // nats://host:port, any of the cluster's servers
  std::string name;               // this node's name (shown in the servers' monitoring)
  int replicas = 1;               // of the streams and buckets this node creates
  int64_t connect_timeout_ms = 5000;
};

class NatsLink {
 public:
  using Handler = std::function<void(NatsMessage&&)>;

  // Connects; throws std::runtime_error naming the servers when none answers.
  explicit NatsLink(NatsOptions opts);
  ~NatsLink();
  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;

  const NatsOptions& options() const { return opts_; }
  // False while libnats is reconnecting (it keeps trying forever).
  bool connected() const { return connected_.load(std::memory_order_acquire); }
  // Called after each reconnection (core subscriptions are restored by libnats;
  // what was published meanwhile on core subjects is lost).
  void on_reconnected(std::function<void()> f);

  // ---- core subjects ----
  // Returns an id for unsubscribe(). `queue` non-empty: one member of the
  // group (across nodes) gets each message.
  uint64_t subscribe(const std::string& subject, const std::string& queue, Handler h);
  void unsubscribe(uint64_t id);
  // Buffered by libnats (sent on its flusher thread): never blocks for long.
  void publish(const std::string& subject, std::string_view data,
               const std::map<std::string, std::string>& headers = {});
  // A request and its answer; nullopt on timeout or when nobody listens.
  std::optional<std::string> request(const std::string& subject, std::string_view data, int64_t timeout_ms);
  void respond(const std::string& reply, std::string_view data);
  // A request to every subscriber of `subject`: each answer that comes within
  // timeout_ms goes to `take`, until it returns true (enough).
  void gather(const std::string& subject, std::string_view data, int64_t timeout_ms,
              const std::function<bool(std::string&& answer)>& take);

  // ---- JetStream ----
  // Creates the stream if missing (or updates its limits).
  // `per_subject` > 0 keeps only the last that many messages of each subject.
  void ensure_stream(const std::string& name, const std::vector<std::string>& subjects, int64_t max_age_ms,
                     int64_t max_bytes, int64_t per_subject = 0);
  // Publishes into a stream; `done(ok, seq)` runs once JetStream has stored it
  // (on `replicas` servers) or failed. `msg_id` lets JetStream drop a resent
  // duplicate.
  using PubDone = std::function<void(bool ok, uint64_t seq)>;
  void js_publish(const std::string& subject, std::string_view data, const std::map<std::string, std::string>& headers,
                  const std::string& msg_id, PubDone done);
  // Reads a stream in order from `start_seq` (0: only what comes next),
  // keeping to `filter`: an ordered consumer, which libnats re-creates from
  // the last sequence seen after a gap or a reconnection. Returns an id for
  // unsubscribe().
  uint64_t js_follow(const std::string& stream, const std::string& filter, uint64_t start_seq, Handler h);
  // A js_follow consumer's progress: (messages delivered, messages still
  // pending for its filter); nullopt when JetStream does not answer.
  std::optional<std::pair<uint64_t, uint64_t>> js_progress(uint64_t id);
  // The stream's last sequence (0 when empty); nullopt when JetStream does not answer.
  std::optional<uint64_t> js_last_seq(const std::string& stream);

  // ---- key-value ----
  void ensure_kv(const std::string& bucket);
  bool kv_delete(const std::string& bucket, const std::string& key);
  // The bucket's keys that hold a value now (deleted ones left out); empty
  // when there are none or JetStream does not answer.
  std::vector<std::string> kv_keys(const std::string& bucket);
  // Asynchronous: a put (or, `value` empty, a delete) is a message on the
  // bucket's stream, sent in this connection's order; `done(ok)` runs once
  // JetStream stored it or failed (may be null). Nothing waits on the caller's
  // thread.
  void kv_write_async(const std::string& bucket, const std::string& key, std::string_view value,
                      std::function<void(bool ok)> done = nullptr);
  // Writes `value` only if the key's last revision is still `last_revision`
  // (compare-and-set: of several nodes doing it at once, one succeeds; revision
  // 0: only if the key does not exist). `new_revision` gets the write's revision.
  bool kv_update(const std::string& bucket, const std::string& key, std::string_view value, uint64_t last_revision,
                 uint64_t* new_revision = nullptr);
  // Every key's current value, then every change; `h` gets data empty and
  // headers["op"] = "del" for a deletion. Returns an id to stop it (unwatch).
  uint64_t kv_watch(const std::string& bucket, Handler h);
  void unwatch(uint64_t id);

 private:
  struct Impl;
  NatsOptions opts_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> connected_{false};
};

}  // namespace sluice::cluster
