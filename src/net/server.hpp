#pragma once
// The MQTT server: the event-loop threads, their listeners, and the
// cross-thread dispatch the broker routes through.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/access.hpp"
#include "broker/broker.hpp"
#include "broker/dispatch.hpp"
#include "net/options.hpp"
#include "net/tls.hpp"

namespace sluice::net {

class Worker;
class TlsContext;
class ConnectLimiter;
class PendingHandshakes;

class Server final : public broker::Dispatcher {
 public:
  Server(ServerOptions opts, broker::Broker& broker, broker::AccessControl& access);
  ~Server() override;

  // Binds every enabled listener (throws std::runtime_error naming the port)
  // and starts the event loops.
  void start();
  // Graceful: v5 clients get DISCONNECT 0x8B (server shutting down); joins the loops.
  void stop();

  // A node of a cluster cut off from it stops serving (docs/cluster.md, "Node
  // liveness"): every connection is closed with 0x88 (server unavailable) and
  // CONNECTs are refused with it until set_serving(true). Thread-safe.
  void set_serving(bool serving);
  bool serving() const { return serving_.load(std::memory_order_acquire); }

  int port(Transport t) const { return ports_[static_cast<int>(t)]; }
  size_t connections() const { return connections_.load(std::memory_order_relaxed); }

  // broker::Dispatcher
  unsigned workers() const override { return static_cast<unsigned>(workers_.size()); }
  void deliver(unsigned worker, std::vector<broker::RemoteDelivery>&& batch) override;
  void post(unsigned worker, std::function<void()> task) override;
  void run(unsigned worker, std::function<void(broker::WorkerContext&)> task) override;

  // Thread-safe: publishes `m` into namespace `ns` as the broker itself (no
  // session; the management API's SendMessage). Routing needs a loop's
  // WorkerContext, so the publish runs as a task on a loop (round-robin) and
  // is traced under `origin`. False if the namespace does not exist.
  bool publish_from_outside(const std::string& ns, broker::MessagePtr m, const std::string& origin);
  // The same on the loop `lane` % loops, always the same one: messages given in
  // order on one lane are routed in that order (a rule's republished stream).
  bool publish_from_outside(const std::string& ns, broker::MessagePtr m, const std::string& origin, unsigned lane);

  const ServerOptions& options() const { return opts_; }
  broker::Broker& broker() { return broker_; }
  broker::AccessControl& access() { return access_; }
  const TlsContext* tls() const { return tls_.get(); }
  // Issue 18: client certificates checked at the TLS handshake when the SNI
  // names a mutual-TLS instance (net/tls.hpp). Set before start().
  void set_client_ca_selector(ClientCaSelector s) { client_ca_selector_ = std::move(s); }
  void set_tls_refusal_reporter(TlsRefusalReporter r) { tls_refusals_ = std::move(r); }
  const TlsRefusalReporter& tls_refusal_reporter() const { return tls_refusals_; }

  // Durable state: acks wait for it when it says so (set before start()).
  void set_persistence(broker::Persistence* p) { persist_ = p; }
  broker::Persistence* persistence() const { return persist_; }
  // Called by the persistence store once tickets are durable (its writer after
  // each commit, or in fsync=batch its syncer after each fdatasync; always the
  // same one thread): wakes the loops holding acks that are now durable.
  void durable(uint64_t ticket);
  std::atomic<size_t>& connection_counter() { return connections_; }
  // Held around accept() by every loop: a loop that frees its reserve
  // descriptor to shed a connection (EMFILE) must not see another loop's
  // accept take the freed slot. Uncontended except under a connect storm.
  std::mutex& accept_mutex() { return accept_mu_; }
  ConnectLimiter* connect_limiter() { return limiter_.get(); }
  PendingHandshakes* pending_handshakes() { return pending_.get(); }

 private:
  ServerOptions opts_;
  broker::Broker& broker_;
  broker::AccessControl& access_;
  std::unique_ptr<TlsContext> tls_;
  ClientCaSelector client_ca_selector_;
  TlsRefusalReporter tls_refusals_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  int ports_[4] = {-1, -1, -1, -1};
  std::mutex accept_mu_;
  std::atomic<size_t> connections_{0};
  std::atomic<unsigned> next_outside_{0};
  broker::Persistence* persist_ = nullptr;
  std::unique_ptr<ConnectLimiter> limiter_;  // null: no per-source connect rate limit
  std::unique_ptr<PendingHandshakes> pending_;  // null: no per-source cap on connections without CONNECT
  // Per worker, the last ticket durable() posted there. Atomic: durable() is
  // called by the store's writer or syncer on one node, but by libnats's
  // threads and the retry thread at once in a cluster (ClusterDurability).
  std::unique_ptr<std::atomic<uint64_t>[]> ack_posted_;
  bool started_ = false;
  std::atomic<bool> serving_{true};
};

}  // namespace sluice::net
