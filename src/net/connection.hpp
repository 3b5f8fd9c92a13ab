#pragma once
// One client connection: bytes in and out of its socket (through TLS and
// WebSocket when its listener uses them), and the MQTT protocol on top:
// CONNECT, the QoS flows, subscriptions, keep alive, topic aliases.
// It lives and dies on one worker thread.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/access.hpp"
#include "broker/client.hpp"
#include "broker/namespace.hpp"
#include "mqtt/codec.hpp"
#include "net/options.hpp"
#include "net/worker.hpp"

namespace sluice::net {

class TlsSession;
class WebSocketSession;

class Connection final : public Pollable, public broker::Client {
 public:
  Connection(Worker& w, uint64_t id, int fd, Transport t);
  ~Connection() override;

  uint64_t id() const override { return id_; }
  const broker::SessionPtr& session() const { return session_; }
  int fd() const { return fd_; }

  void on_event(uint32_t events);
  // Writes pending output; called by the worker once per loop iteration.
  void flush();
  // The same in two halves, for the worker's batched flush (net/send_batch.hpp):
  // the bytes to send now (empty: nothing, or closed), then what sending them
  // returned (n bytes, or -1 and errno `err`).
  std::string_view begin_flush();
  void end_flush(long n, int err);
  // Four times a second: keep alive, CONNECT deadline, changed rights.
  void tick(int64_t now);
  // Closes the connection. For a v5 client that completed CONNECT, a DISCONNECT
  // with `reason` is sent first unless reason is Success. The will is
  // published unless the client sent DISCONNECT 0x00.
  void close(mqtt::Reason reason, std::string_view why);
  bool closed() const { return state_ == State::Closed; }
  bool dirty = false;
  bool want_write = false;

  // broker::Client
  unsigned worker() const override { return w_.id(); }
  bool send_publish(const broker::Message& m, uint8_t qos, uint16_t packet_id, bool retain,
                    bool dup, uint32_t subscription_id) override;
  void send_pubrel(uint16_t packet_id) override;
  bool may_receive(const broker::Message& m) override { return !access_ || access_->may_receive(m.topic); }
  uint16_t receive_maximum() const override { return client_receive_max_; }
  bool congested() const override;
  void kick(mqtt::Reason reason) override;

 private:
  enum class State : uint8_t { AwaitConnect, Connected, Closed };

  void on_readable();
  void on_bytes(std::string_view raw);
  void process(std::string_view data);
  void report_tls_refusal(const TlsSession& tls, std::string_view why);
  void handle(mqtt::Packet& p);
  void on_connect(mqtt::Connect& c);
  void on_publish(mqtt::Publish& p);
  void refuse_publish(const mqtt::Publish& p, mqtt::Reason r);
  void on_subscribe(mqtt::Subscribe& s);
  using RetainedAsked = std::vector<std::pair<std::string, broker::SubOptions>>;  // filter, options
  // After the SUBACK: the retained messages the new subscriptions ask for, now
  // or, when the namespace's store may lag (a cluster), once it has caught up.
  void send_retained(RetainedAsked asked, bool caught_up = false);
  void on_unsubscribe(mqtt::Unsubscribe& u);
  void on_ack(mqtt::Ack& a);
  void on_disconnect(mqtt::Disconnect& d);
  // PUBACK / PUBREC to the publisher; held back until `ticket` (0: none) is durable.
  void ack_publish(mqtt::PacketType type, uint16_t packet_id, uint64_t ticket);
 public:
  void release_ack(uint16_t packet_id, bool pubrec);  // by the worker, once durable
 private:
  void refuse_connect(mqtt::Reason reason, std::string_view why);
  // Asks the access layer whether rights changed; applies revocations.
  void check_access(int64_t now);
  // Removes the session's subscriptions the principal may not make (why: for the log).
  void drop_unauthorized_subscriptions(std::string_view why);
  // A protocol violation: DISCONNECT with the reason (v5) and close.
  void fail(mqtt::Reason reason, std::string_view why);

  // Appends encoded MQTT bytes to the output and schedules a flush.
  std::string& out() { return out_; }
  void queued_output();
  size_t pending_output() const { return out_.size() - out_off_ + (layers_ ? layers_->bytes.size() - layers_->off : 0); }
  bool write_socket();
  enum class SendOutcome : uint8_t { Sent, Blocked, Closed };
  std::pair<std::string*, size_t*> stage_output();
  SendOutcome sent(size_t& off, long n, int err);
  void after_write(std::string& buf, size_t& off);

  // Members ordered by size so an idle connection leaves no padding holes, and
  // what few connections use (a partial packet, TLS/WebSocket, a will, held
  // acks, topic aliases) behind pointers allocated at its first use: an idle
  // connection's bytes count at 15,000+ connections (docs/benchmarks.md, issue 20).
  State state_ = State::AwaitConnect;
  const Transport transport_;
  mqtt::Version version_ = mqtt::Version::V3_1_1;
  bool will_suppressed_ = false;
  bool was_congested_ = false;
  bool requested_problem_info_ = true;
  uint16_t client_receive_max_ = 65535;
  int fd_;
  uint32_t keep_alive_ms_ = 0;  // 0: none
  mqtt::Parser parser_;
  uint32_t client_max_packet_ = 0;  // 0: no limit
  uint32_t held_acks_ = 0;          // acks waiting for durability (later ones queue behind: order)
  uint16_t client_alias_max_ = 0;
  uint16_t next_out_alias_ = 1;
  Worker& w_;
  const uint64_t id_;
  int64_t last_rx_ms_ = 0;

  std::string out_;    // encoded MQTT packets not yet written
  size_t out_off_ = 0;
  // MQTT bytes of a packet not yet complete; freed at a tick once empty.
  std::unique_ptr<std::string> in_;
  // TLS / WebSocket: the sessions, and the bytes after their framing not yet
  // written (only layered transports have them).
  struct Layers {
    std::string bytes;
    size_t off = 0;
    std::unique_ptr<TlsSession> tls;
    std::unique_ptr<WebSocketSession> ws;
    ~Layers();
  };
  std::unique_ptr<Layers> layers_;
  TlsSession* tls() const { return layers_ ? layers_->tls.get() : nullptr; }
  WebSocketSession* ws() const { return layers_ ? layers_->ws.get() : nullptr; }

  std::shared_ptr<broker::Namespace> ns_;
  broker::SessionPtr session_;
  std::unique_ptr<broker::ClientAccess> access_;
  // The will, held acks' ticket and topic aliases: allocated at the first use.
  struct Rare {
    broker::MessagePtr will;
    uint64_t will_key = 0;  // the will as recorded in the store while this connection is open
    uint32_t will_delay_s = 0;
    uint64_t last_held_ticket = 0;
    std::vector<std::string> aliases_in;                    // topic per alias the client set (index = alias)
    std::unordered_map<std::string, uint16_t> aliases_out;  // ours, per topic
  };
  std::unique_ptr<Rare> rare_;
  Rare& rare() {
    if (!rare_) rare_ = std::make_unique<Rare>();
    return *rare_;
  }
};

}  // namespace sluice::net
