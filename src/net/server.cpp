#include "net/server.hpp"

#include <unistd.h>

#include "common/log.hpp"
#include "net/connect_limiter.hpp"
#include "net/pending_handshakes.hpp"
#include "net/socket.hpp"
#include "net/tls.hpp"
#include "net/worker.hpp"

namespace sluice::net {

const char* transport_name(Transport t) {
  switch (t) {
    case Transport::Tcp: return "mqtt";
    case Transport::Tls: return "mqtts";
    case Transport::Ws: return "ws";
    case Transport::Wss: return "wss";
  }
  return "?";
}

Server::Server(ServerOptions opts, broker::Broker& broker, broker::AccessControl& access)
    : opts_(std::move(opts)), broker_(broker), access_(access) {
  if (opts_.connect_rate_per_source > 0)
    limiter_ = std::make_unique<ConnectLimiter>(opts_.connect_rate_per_source, opts_.connect_burst_per_source);
  if (opts_.max_pending_connects_per_source > 0)
    pending_ = std::make_unique<PendingHandshakes>(opts_.max_pending_connects_per_source);
}

Server::~Server() { stop(); }

void Server::start() {
  const unsigned n = broker_.workers();
  const bool need_tls = opts_.mqtts_port >= 0 || opts_.wss_port >= 0;
  if (need_tls) {
    if (opts_.tls_cert.empty() || opts_.tls_key.empty())
      throw std::runtime_error("TLS listeners need tls_cert and tls_key");
    tls_ = std::make_unique<TlsContext>(opts_.tls_cert, opts_.tls_key, opts_.tls_ca,
                                        opts_.tls_require_client_cert);
    // Unless the listener's own CA decides (tls_require_client_cert).
    if (client_ca_selector_ && !(opts_.tls_require_client_cert && !opts_.tls_ca.empty()))
      tls_->set_client_ca_selector(client_ca_selector_);
  }
  for (unsigned i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(*this, i));
  ack_posted_ = std::make_unique<std::atomic<uint64_t>[]>(n);
  const std::pair<Transport, int> wanted[] = {{Transport::Tcp, opts_.mqtt_port},
                                              {Transport::Tls, opts_.mqtts_port},
                                              {Transport::Ws, opts_.ws_port},
                                              {Transport::Wss, opts_.wss_port}};
  for (auto [t, port] : wanted) {
    if (port < 0) continue;
    // Each loop gets its own SO_REUSEPORT socket. With port 0 the first
    // socket picks the port and the others join it.
    int p = port;
    for (unsigned i = 0; i < n; ++i) {
      int fd = listen_socket(opts_.host, p);
      if (p == 0) p = local_port(fd);
      workers_[i]->add_listener(fd, t);
    }
    ports_[static_cast<int>(t)] = p;
    log::info("listening for {} on {}:{}", transport_name(t), opts_.host, p);
  }
  for (auto& w : workers_) threads_.emplace_back([w = w.get()] { w->run(); });
  started_ = true;
}

void Server::stop() {
  if (!started_) return;
  started_ = false;
  for (auto& w : workers_) w->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Clients see their connections close now, as before; the workers stay
  // (stopped) until the server goes: the store's threads report durable
  // tickets to them (durable()) until the store stops, which is after this
  // (app/serve.cpp); destroying them here raced with that (TSan).
  for (auto& w : workers_) w->drop_connections();
}

void Server::set_serving(bool serving) {
  if (serving_.exchange(serving) == serving || serving || !started_) return;
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->post([wp] { wp->close_all(mqtt::Reason::ServerUnavailable, "this node is cut off from its cluster"); });
  }
}

void Server::deliver(unsigned worker, std::vector<broker::RemoteDelivery>&& batch) {
  workers_[worker]->deliver(std::move(batch));
}

void Server::post(unsigned worker, std::function<void()> task) { workers_[worker]->post(std::move(task)); }

void Server::run(unsigned worker, std::function<void(broker::WorkerContext&)> task) {
  Worker* w = workers_[worker].get();
  w->post([w, t = std::move(task)] { t(w->ctx()); });
}

bool Server::publish_from_outside(const std::string& ns_id, broker::MessagePtr m, const std::string& origin) {
  return publish_from_outside(ns_id, std::move(m), origin, next_outside_.fetch_add(1, std::memory_order_relaxed));
}

bool Server::publish_from_outside(const std::string& ns_id, broker::MessagePtr m, const std::string& origin,
                                  unsigned lane) {
  auto ns = broker_.find(ns_id);
  if (!ns || !started_ || workers_.empty()) return false;
  if (ns->tracing())
    if (auto t = ns->tracer()) t->published(*m, origin);
  Worker* w = workers_[lane % workers_.size()].get();
  // The loop flushes cross-thread deliveries and dirty connections after its tasks.
  w->post([ns = std::move(ns), m = std::move(m), w] {
    broker::WorkerStats::add(w->ctx().stats().messages_in);
    ns->publish(m, w->ctx());
  });
  return true;
}

}  // namespace sluice::net
