#pragma once
// One event loop thread (FlashMQ's model): it owns its listening sockets
// (SO_REUSEPORT), the connections accepted on them for their whole life, and
// an inbox through which other threads hand it deliveries and tasks.
//
// Each loop iteration: wait for events, read and process every ready
// connection, hand cross-thread deliveries over in one batch per target
// thread, then write every connection that has output (one write each, so
// the packets produced by the iteration are coalesced). A loop kept busy by
// a trickle of small PUBLISHes sleeps [mqtt] coalesce_us between iterations
// so each read brings a batch (maybe_coalesce, net/coalesce.hpp).
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/dispatch.hpp"
#include "mqtt/packet.hpp"
#include "net/coalesce.hpp"
#include "net/options.hpp"
#include "net/pending_handshakes.hpp"

namespace sluice::net {

class Server;
class Connection;
class SendBatch;

// Everything registered with epoll starts with this tag.
struct Pollable {
  enum class Kind : uint8_t { Listener, Wakeup, Connection } kind;
  explicit Pollable(Kind k) : kind(k) {}
};

class Worker {
 public:
  Worker(Server& server, unsigned id);
  ~Worker();

  unsigned id() const { return id_; }
  Server& server() { return server_; }
  broker::WorkerContext& ctx() { return ctx_; }

  void add_listener(int fd, Transport t);
  void run();          // the thread body; returns after stop()
  void stop();         // thread-safe
  // After run() has returned: closes every connection now (the worker object
  // itself stays until the server goes; Server::stop).
  void drop_connections();

  // Thread-safe hand-over from other threads.
  void deliver(std::vector<broker::RemoteDelivery>&& batch);
  void post(std::function<void()> task);

  // Loop-thread only.
  void mark_dirty(Connection* c);
  void retire(Connection* c);  // closed: destroy at the end of the iteration
  // The connection completed CONNECT or closed before it: no longer pending.
  void handshake_over(uint64_t connection_id);
  // When a connection still without CONNECT was accepted (ms); -1 if it is not pending.
  int64_t pending_since(uint64_t connection_id) const;
  Connection* find(uint64_t connection_id);
  // On the loop: closes every connection with `reason` (and `why` for v5).
  void close_all(mqtt::Reason reason, std::string_view why);
  size_t connection_count() const { return live_; }
  std::string& read_buffer() { return read_buf_; }
  std::string& scratch() { return scratch_; }
  mqtt::Publish& publish_scratch() { return pub_; }
  // The packet Connection::process decodes into, reused from read to read: a
  // PUBLISH lands in a Publish that already exists (no variant switch, vectors
  // keep their capacity). nullptr while taken, should a process() ever nest.
  mqtt::Packet* take_packet() {
    if (packet_taken_) return nullptr;
    packet_taken_ = true;
    return &packet_;
  }
  void release_packet() { packet_taken_ = false; }
  int64_t now_ms() const { return now_ms_; }
  // A packet was decoded this iteration, owing its sender `owes`: decides
  // whether the loop may coalesce (net/coalesce.hpp).
  void note_packet(Owes owes) {
    ++iter_packets_;
    iter_owes_ = iter_owes_ | owes;
  }
  void update_interest(Connection* c, bool want_write);

  // PUBACK / PUBREC held back until persistence ticket `ticket` is durable
  // (loop thread). The store's writer wakes the loop through post().
  void defer_ack(uint64_t connection_id, uint64_t ticket, uint16_t packet_id, bool pubrec);
  void acks_durable(uint64_t ticket);
  // Highest ticket a held-back ack waits for (read by the writer thread).
  uint64_t ack_wanted() const { return ack_wanted_.load(); }

 private:
  struct Listener : Pollable {
    Listener(int f, Transport t) : Pollable(Kind::Listener), fd(f), transport(t) {}
    int fd;
    Transport transport;
  };
  void accept_all(Listener& l);
  bool shed_without_descriptors(Listener& l);  // EMFILE: accept and close one; false if it could not
  void resume_listeners();                      // at a tick: poll listeners paused for want of descriptors
  // At max_connections: closes this loop's oldest connection still without
  // CONNECT, if it has had long enough, to make room. False if there is none.
  bool shed_oldest_pending();
  void report_refusals();                       // at a tick: one log line per 10 s for connections refused
  void drain_inbox();
  void flush_dirty();
  void flush_dirty_batched();
  static constexpr size_t kBatchFrom = 4;  // fewer connections with output: a send() each
  void tick();
  void shutdown_connections();

  Server& server_;
  const unsigned id_;
  int epfd_ = -1;
  int wakefd_ = -1;
  // Held open so that, out of descriptors (EMFILE), a pending connection can
  // still be accepted and closed at once instead of spinning on the listener.
  int reserve_fd_ = -1;
  int64_t emfile_logged_ms_ = -1'000'000;
  uint64_t emfile_shed_ = 0;
  std::vector<Listener*> paused_listeners_;
  Pollable wake_tag_{Pollable::Kind::Wakeup};
  std::vector<std::unique_ptr<Listener>> listeners_;
  broker::WorkerContext ctx_;

  std::mutex inbox_mu_;
  bool inbox_signaled_ = false;
  bool stopping_ = false;
  std::vector<broker::RemoteDelivery> inbox_;
  std::vector<broker::RemoteDelivery> drained_items_;  // drain_inbox's, empty between drains
  std::vector<std::function<void()>> drained_tasks_;
  std::vector<std::function<void()>> tasks_;

  // Connections by slot, the low 24 bits of their id (a vector, not a hash map:
  // an idle connection's bytes count, issue 20); the bits above the slot make an
  // id that a reused slot does not take over. Freed slots are reused.
  static constexpr unsigned kSlotBits = 24;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<uint32_t> free_slots_;
  size_t live_ = 0;
  Connection* slot_of(uint64_t id) const;  // closed ones too; nullptr if gone
  // Connections accepted and still without CONNECT: where from and since when
  // (only these need it, so connected ones do not carry it).
  struct Pending {
    SourceAddress source;
    int64_t since;  // accepted at (ms)
  };
  std::unordered_map<uint64_t, Pending> pending_;
  // Ids of connections accepted, oldest first, for shedding the oldest still
  // without CONNECT; those past it are dropped lazily (at ticks, when shedding).
  // Bounded: a connection is pending for at most the connect timeout.
  std::deque<uint64_t> pending_order_;
  bool still_pending(uint64_t id) const;
  struct Refused {
    uint64_t pending_cap = 0;  // over [mqtt] max_pending_connects_per_source
    uint64_t full = 0;         // at max_connections with nothing to shed
    uint64_t shed = 0;         // pending connections closed to make room
    SourceAddress last_source;  // the last address over the pending cap
  } refused_;
  int64_t refusals_logged_ms_ = 0;
  std::vector<Connection*> dirty_;
  std::vector<Connection*> flushing_;  // flush_dirty_batched's round
  std::unique_ptr<SendBatch> sends_;   // null: [mqtt] io_uring = false
  std::vector<Connection*> retired_;
  std::string read_buf_;
  std::string scratch_;
  mqtt::Publish pub_;
  mqtt::Packet packet_;
  bool packet_taken_ = false;
  // Coalescing (run()): packets decoded this iteration and the most any owed.
  uint32_t iter_packets_ = 0;
  Owes iter_owes_ = Owes::Nothing;
  CoalesceProbe probe_;
  void maybe_coalesce(bool busy, int64_t now_ns);
  int64_t now_ms_ = 0;
  int64_t next_tick_ms_ = 0;
  int64_t last_prune_ms_ = 0;  // connect limiter and pending handshakes (loop 0)
  struct HeldAck {
    uint64_t connection_id;
    uint64_t ticket;
    uint16_t packet_id;
    bool pubrec;
  };
  std::deque<HeldAck> held_acks_;  // tickets ascending
  std::atomic<uint64_t> ack_wanted_{0};
  uint64_t next_conn_id_ = 1;
};

}  // namespace sluice::net
