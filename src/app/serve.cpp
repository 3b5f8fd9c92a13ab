#include "app/serve.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <thread>

#include "api/http_server.hpp"
#include "app/metrics.hpp"
#include "broker/anonymous_access.hpp"
#include "broker/broker.hpp"
#include "common/log.hpp"
#include "net/server.hpp"

namespace sluice::app {

namespace {
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}
}  // namespace

int serve(Config cfg) {
  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();

  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) {
    log::error("cannot create data dir {}: {}", cfg.data_dir, ec.message());
    return 1;
  }
  if (cfg.mqtt.threads == 0) cfg.mqtt.threads = std::max(1u, std::thread::hardware_concurrency());

  broker::Broker broker(cfg.mqtt.threads, cfg.broker);
  if (!cfg.allow_anonymous) {
    log::error("authentication is not available in this build yet: start with --allow-anonymous");
    return 2;
  }
  log::warn("ANONYMOUS MODE: any client may connect without credentials (development only)");
  broker::AnonymousAccess access(broker);

  net::Server server(cfg.mqtt, broker, access);
  api::HttpServer http(cfg.http);
  try {
    server.start();
    http.route("/metrics", [&](const api::HttpRequest&) {
      return api::HttpResponse{200, "text/plain; version=0.0.4", {}, render_metrics(broker, server)};
    });
    http.route("/healthz", [](const api::HttpRequest&) {
      return api::HttpResponse{200, "text/plain", {}, "ok\n"};
    });
    if (cfg.http.port >= 0) http.start();
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return 1;
  }
  log::info("sluice ready: mqtt={} mqtts={} ws={} wss={} http={} threads={}",
            server.port(net::Transport::Tcp), server.port(net::Transport::Tls),
            server.port(net::Transport::Ws), server.port(net::Transport::Wss),
            cfg.http.port >= 0 ? http.port() : -1, cfg.mqtt.threads);

  int sig = 0;
  sigwait(&set, &sig);
  log::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  http.stop();
  server.stop();
  log::info("stopped");
  return 0;
}

}  // namespace sluice::app
