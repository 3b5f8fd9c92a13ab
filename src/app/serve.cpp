#include "app/serve.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "api/audit.hpp"
#include "api/console_api.hpp"
#include "api/http_server.hpp"
#include "api/mq_audit_sink.hpp"
#include "api/nonce_ledger.hpp"
#include "api/rpc.hpp"
#include "app/initial_credentials.hpp"
#include "app/metrics.hpp"
#include "app/egress_config.hpp"
#include "app/mq_binding.hpp"
#include "app/serve_rules.hpp"
#include "broker/broker.hpp"
#include "cluster/leases.hpp"
#include "cluster/node.hpp"
#include "rules/engine.hpp"
#include "common/log.hpp"
#include "iam/authorizer.hpp"
#include "iam/iam_service.hpp"
#include "mq/cert_auth.hpp"
#include "mq/mq_access.hpp"
#include "mq/mq_service.hpp"
#include "mq/signature.hpp"
#include "mq/trace_disk.hpp"
#include "net/server.hpp"
#include "persist/broker_store.hpp"
#include "store/crypto.hpp"
#include "store/private_files.hpp"
#include "store/store.hpp"

namespace sluice::app {

namespace {

// [broker] max_queued_bytes_total: -1 (the default) = a quarter of physical memory.
uint64_t queue_memory_limit(int64_t configured) {
  if (configured >= 0) return static_cast<uint64_t>(configured);
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 1ull << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 4;
}
// Returns the open-file limit now in force (0 if unknown).
uint64_t raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY ? 0 : uint64_t(rl.rlim_cur);
}

// [mqtt] max_connections = 0 means "as many as the descriptors allow": the
// limit less a reserve for the stores, loops and logs, and less HTTP's own
// budget ([http] max_connections), so that new MQTT connections are shed at
// accept before anything else runs out of descriptors and HTTP, full or not,
// never takes the descriptors MQTT was sized for. HTTP's budget is lowered to
// an eighth of what the reserve leaves when the limit is too small for it.
void bound_connections(net::ServerOptions& o, api::HttpOptions& h, bool http_on, uint64_t fd_limit) {
  if (fd_limit == 0) return;
  const uint64_t reserve = std::clamp<uint64_t>(fd_limit / 16, 32, 128);
  uint64_t fit = fd_limit > reserve ? fd_limit - reserve : 1;
  if (http_on) {
    const uint64_t share = std::max<uint64_t>(fit / 8, 8);
    if (h.max_connections == 0 || h.max_connections > share) {
      log::info("[http] max_connections {} -> {}: HTTP's share of {} open files (an eighth of what the "
                "reserve leaves), so that it never competes with MQTT for descriptors",
                h.max_connections == 0 ? std::string("0 (no limit)") : std::to_string(h.max_connections), share,
                fd_limit);
      h.max_connections = static_cast<uint32_t>(share);
    }
    fit = fit > h.max_connections ? fit - h.max_connections : 1;
  }
  if (o.max_connections == 0) {
    o.max_connections = static_cast<uint32_t>(std::min<uint64_t>(fit, 0xFFFFFFFF));
  } else if (o.max_connections > fit) {
    log::warn("[mqtt] max_connections = {} exceeds what {} open files leave room for ({}); "
              "connections beyond that are shed when descriptors run out", o.max_connections, fd_limit, fit);
  }
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

mq::MqOptions mq_options(const Config& cfg) {
  mq::MqOptions o;
  o.region = cfg.mq.region;
  o.token_min_ttl_ms = cfg.mq.token_min_ttl_s * 1000;
  o.instance_defaults.strict_client_id = cfg.mq.strict_client_id;
  o.instance_defaults.strict_topic = cfg.mq.strict_topic;
  o.instance_defaults.close_on_denied_publish = cfg.mq.close_on_denied_publish;
  o.instance_defaults.message_trace = cfg.mq.message_trace;
  o.traces.max_age_ms = cfg.mq.trace_max_age_s * 1000;
  o.traces.max_device_events = static_cast<size_t>(cfg.mq.trace_max_device_events);
  o.traces.max_message_events = static_cast<size_t>(cfg.mq.trace_max_message_events);
  return o;
}

// First start on an empty data dir: the root account, its login password and
// first access key (from SLUICE_ROOT_* when set, else random), written to
// <data-dir>/initial-credentials.json (0600) and printed once. With --demo also
// an activated mq service, an instance, a parent topic, a group and a working
// mosquitto_sub / mosquitto_pub pair.
bool bootstrap(const Config& cfg, iam::IamService& iam, mq::MqService& mq, store::Store& store) {
  auto accounts = iam.list_accounts();
  if (!accounts) {
    log::error("cannot read accounts: {}", accounts.error().message);
    return false;
  }
  if (!accounts->empty()) return true;
  const std::string password = env_or("SLUICE_ROOT_PASSWORD", store::random_string(20, store::kAlnum));
  auto acct = iam.create_account("root", "", password);  // alias: the account id, as in the cloud
  // Nodes of one PostgreSQL store started at once: another node made it first.
  if (!acct && acct.error().code.rfind("EntityAlreadyExists.Account", 0) == 0) return true;
  if (!acct) {
    log::error("cannot create the root account: {}: {}", acct.error().code, acct.error().message);
    return false;
  }
  // The first password travels in a file and on the terminal: make its owner replace it.
  if (auto s = iam.set_root_password_change_required(acct->id, true); !s)
    log::warn("cannot flag the root password for change: {}", s.error().message);
  auto key = iam.create_access_key(acct->id, std::nullopt);
  if (!key) {
    log::error("cannot create the root access key: {}", key.error().message);
    return false;
  }
  std::string key_id = key->key.id, secret = key->secret;
  const std::string env_id = env_or("SLUICE_ROOT_ACCESS_KEY_ID", ""), env_secret = env_or("SLUICE_ROOT_ACCESS_KEY_SECRET", "");
  if (!env_id.empty() && !env_secret.empty()) {
    // An operator-chosen first key (e.g. for CI): replace the generated one before anything used it.
    try {
      std::lock_guard lk(store.mutex());
      store.db().run("UPDATE access_keys SET id = ?, secret_enc = ? WHERE id = ?", env_id,
                     store::Blob{store.box().seal(env_secret, env_id)}, key_id);
      key_id = env_id;
      secret = env_secret;
    } catch (const std::exception& e) {
      log::error("SLUICE_ROOT_ACCESS_KEY_ID: {}", e.what());
      return false;
    }
  }
  std::string instance, topic = "demo", group = "GID_demo";
  if (cfg.demo) {
    if (auto s = iam.activate_service(acct->id, "mq"); !s) {
      log::error("demo: {}", s.error().message);
      return false;
    }
    auto in = mq.CreateInstance(acct->id, mq::InstanceSpec{"demo", "", "created by --demo", std::nullopt, ""});
    if (!in) {
      log::error("demo: {}", in.error().message);
      return false;
    }
    instance = in->id;
    (void)mq.CreateTopic(acct->id, instance, topic, "demo parent topic");
    (void)mq.CreateGroupId(acct->id, instance, group, "demo group");
  }
  const std::string path = InitialCredentials::path_in(cfg.data_dir);
  std::string body = "{\n  \"accountId\": \"" + acct->id + "\",\n  \"login\": \"root\",\n  \"password\": \"" +
                     json_escape(password) + "\",\n  \"accessKeyId\": \"" + json_escape(key_id) +
                     "\",\n  \"accessKeySecret\": \"" + json_escape(secret) + "\"";
  if (!instance.empty()) body += ",\n  \"instanceId\": \"" + instance + "\"";
  body += "\n}\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) ::fchmod(fd, 0600);  // a file left from before keeps its mode otherwise
  if (fd < 0 || ::write(fd, body.data(), body.size()) != static_cast<ssize_t>(body.size())) {
    log::error("cannot write {}", path);
    if (fd >= 0) ::close(fd);
    return false;
  }
  ::close(fd);
  std::cout << "\n=== First start: root account created (also in " << path << ", mode 0600) ===\n"
            << "  account id:        " << acct->id << "\n  console login:     root / " << password
            << "\n  AccessKeyId:       " << key_id << "\n  AccessKeySecret:   " << secret << "\n";
  if (!instance.empty()) {
    const std::string host = cfg.mqtt.host == "0.0.0.0" ? "127.0.0.1" : cfg.mqtt.host;
    const std::string sub_id = group + "@@@sub1", pub_id = group + "@@@pub1";
    std::cout << "  demo instance:     " << instance << " (parent topic \"" << topic << "\", group \"" << group
              << "\")\n\n  Try it (Signature mode):\n"
              << "  mosquitto_sub -h " << host << " -p " << cfg.mqtt.mqtt_port << " -V mqttv311 -i '" << sub_id
              << "' -u 'Signature|" << key_id << "|" << instance << "' -P '"
              << mq::sign_client_id(secret, sub_id) << "' -t '" << topic << "/#' -v\n"
              << "  mosquitto_pub -h " << host << " -p " << cfg.mqtt.mqtt_port << " -V mqttv311 -i '" << pub_id
              << "' -u 'Signature|" << key_id << "|" << instance << "' -P '"
              << mq::sign_client_id(secret, pub_id) << "' -t '" << topic << "/hello' -m 'hello from sluice'\n";
  }
  std::cout << "==========================================================================\n" << std::endl;
  return true;
}
std::string console_dir(const Config& cfg) {
  if (!cfg.console_dir.empty()) return cfg.console_dir;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("console") : (exe.parent_path() / "console").string();
}

api::ConsoleOptions console_options(const Config& cfg) {
  api::ConsoleOptions o;
  o.dir = console_dir(cfg);
  o.sessions.idle_seconds = cfg.console.idle_timeout_s;
  o.sessions.absolute_seconds = cfg.console.absolute_timeout_s;
  o.login_failures_per_minute = static_cast<int>(cfg.console.login_failures_per_minute);
  o.login_failures_per_name_per_minute = static_cast<int>(cfg.console.login_failures_per_name_per_minute);
  o.trusted_proxies = cfg.console.trusted_proxies;
  return o;
}

// The instance endpoints the API and console show: the configured host name,
// else the listen address when it names one, else this machine's name.
api::RpcServices::Endpoints endpoints(const Config& cfg, net::Server& server) {
  std::string host = cfg.mq.endpoint_host;
  if (host.empty() && cfg.mqtt.host != "0.0.0.0" && cfg.mqtt.host != "::") host = cfg.mqtt.host;
  if (host.empty()) {
    char name[256] = {};
    host = gethostname(name, sizeof name - 1) == 0 && name[0] ? name : "localhost";
  }
  const bool v6 = host.find(':') != std::string::npos;
  auto at = [&](net::Transport t) {
    const int p = server.port(t);
    return p > 0 ? (v6 ? "[" + host + "]" : host) + ":" + std::to_string(p) : std::string();
  };
  api::RpcServices::Endpoints e;
  e.tcp = at(net::Transport::Tcp);
  e.tls = at(net::Transport::Tls);
  // WebSocket clients need the path too (ws://host:port/mqtt).
  e.ws = at(net::Transport::Ws);
  if (!e.ws.empty()) e.ws += cfg.mqtt.ws_path;
  e.wss = at(net::Transport::Wss);
  if (!e.wss.empty()) e.wss += cfg.mqtt.ws_path;
  return e;
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
  // Everything this process creates is its own: the stores hold secrets and
  // message payloads (the files are also made 0600 explicitly, for `sluice admin`).
  ::umask(077);
  for (auto [v, key] : {std::pair{cfg.http.idle_timeout_seconds, "idle_timeout_s"},
                        std::pair{cfg.http.header_timeout_seconds, "header_timeout_s"},
                        std::pair{cfg.http.timeout_seconds, "request_timeout_s"}}) {
    if (v == 0) {
      log::error("[http] {} must be at least 1 (seconds)", key);
      return 1;
    }
  }
  bound_connections(cfg.mqtt, cfg.http, cfg.http.port >= 0, raise_fd_limit());

  // Secrets, initial credentials and message payloads live here: 0700.
  const store::DataDirResult dir = store::prepare_data_dir(cfg.data_dir);
  if (!dir.error.empty()) {
    log::error("{}", dir.error);
    return 1;
  }
  if (dir.old_mode >= 0)
    log::warn("data dir {} had mode {:04o}, which let others read secrets and messages: changed to {:04o}",
              cfg.data_dir, dir.old_mode, dir.new_mode);
  if (!dir.warning.empty()) log::warn("{}", dir.warning);
  // Created 0600; tightened here should they have been opened up since (the
  // databases are tightened as they are opened).
  for (const std::string& f : {cfg.data_dir + "/master.key", InitialCredentials::path_in(cfg.data_dir)})
    if (std::string t = store::make_file_private(f); !t.empty()) log::warn("tightened to mode 0600: {}", t);
  if (cfg.mqtt.threads == 0) cfg.mqtt.threads = std::max(1u, std::thread::hardware_concurrency());
  // The cores, at most 4, on either store: no request parks a thread on a
  // round trip it shares with others (the PostgreSQL nonce check answers
  // through a callback, nonce_ledger.hpp), and writes queue on the store's one
  // connection whatever the count. Measured on PostgreSQL (docs/benchmarks.md):
  // ListGroupId 10,600-10,900/s with 2 threads, 8,300-8,600/s with 8.
  if (cfg.http.threads == 0) cfg.http.threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);

  if (cfg.max_queued_bytes_total < -1) {
    log::error("[broker] max_queued_bytes_total must be -1 (a quarter of physical memory), 0 (no bound) "
               "or a number of bytes (got {})", cfg.max_queued_bytes_total);
    return 1;
  }
  if (cfg.mqtt.coalesce_us > 1000) {  // a longer sleep would be latency, not batching
    log::error("[mqtt] coalesce_us must be between 0 and 1000 microseconds (got {})", cfg.mqtt.coalesce_us);
    return 1;
  }
  // Where tenants' rules may connect (common/egress.hpp): before anything reads it.
  common::set_egress_policy(egress_policy(cfg));
  // A node of a cluster (docs/cluster.md): declared before the broker, which it
  // outlives (the namespaces hold its bus and retained mirror).
  std::unique_ptr<cluster::ClusterNode> node;
  if (!cfg.cluster.nats.empty()) {
    try {
      cluster::ClusterOptions co;
      co.nats = cfg.cluster.nats;
      co.node_name = cfg.cluster.node_name;
      co.replicas = static_cast<int>(cfg.cluster.replicas);
      co.message_max_age_s = cfg.cluster.message_max_age_s;
      co.postgres = cfg.store.postgres;  // the node's lease in PostgreSQL (docs/cluster.md)
      node = std::make_unique<cluster::ClusterNode>(co);
    } catch (const std::exception& e) {
      log::error("cluster: {}", e.what());
      return 1;
    }
  }
  broker::Broker broker(cfg.mqtt.threads, cfg.broker);
  if (node) broker.set_cluster(node->seams());  // before any namespace exists
  broker.set_queue_memory_limit(queue_memory_limit(cfg.max_queued_bytes_total));
  // Authentication (SPEC §5): Store -> IamService -> Authorizer -> MqService -> MqAccessControl.
  std::shared_ptr<store::Store> store;
  std::unique_ptr<iam::IamService> iam;
  std::unique_ptr<iam::Authorizer> authz;
  std::unique_ptr<mq::MqService> mq;
  std::unique_ptr<broker::AccessControl> access;
  mq::MqAccessControl* audit_mqtt = nullptr;  // `access`, when it audits (authentication on)
  std::shared_ptr<api::AuditLog> audit;  // API calls and MQTT denials (LookupEvents)
  std::unique_ptr<api::NonceLedger> nonces;  // PostgreSQL: signature nonces of every node
  if (cfg.allow_anonymous) {
    log::warn("ANONYMOUS MODE: any client may connect without credentials (development only)");
    access = mq::MqAccessControl::anonymous(broker);
  } else {
    store::StoreOptions sopts;
    sopts.postgres = cfg.store.postgres;
    sopts.change_backstop_ms = std::max<int64_t>(cfg.store.backstop_s, 0) * 1000;
    auto r = store::Store::open(cfg.data_dir, sopts);
    if (!r.store) {
      log::error("{}", r.error);
      return 1;
    }
    store = std::shared_ptr<store::Store>(std::move(r.store));
    if (store->dialect() == store::Dialect::Postgres)
      log::info("control store: PostgreSQL {} (shared by every node given it)", store->where());
    try {  // each service migrates its tables: a schema newer than this binary is refused here
      iam::Limits limits;
      limits.sts_min_duration = cfg.iam.sts_min_duration_s;
      iam = std::make_unique<iam::IamService>(store, limits);
      mq = std::make_unique<mq::MqService>(store, *iam, mq_options(cfg));
      try {  // traces survive a restart (issue 21); a file that cannot be used only costs their history
        mq::TraceDiskLimits tl;
        tl.max_age_ms = mq->traces().limits().max_age_ms;
        mq->traces().persist_to(std::make_unique<mq::TraceDisk>(cfg.data_dir + "/traces.db", tl));
      } catch (const std::exception& e) {
        log::warn("traces: {}/traces.db unusable ({}); traces are kept in memory only", cfg.data_dir, e.what());
      }
      api::AuditOptions audit_opts;
      audit_opts.refusal_window_ms = std::max<int64_t>(cfg.refused_audit_window_s, 1) * 1000;
      audit = std::make_shared<api::AuditLog>(store, audit_opts);
      // Nodes sharing a store share the signature nonces too (a replay to
      // another node is refused).
      if (store->dialect() == store::Dialect::Postgres) nonces = std::make_unique<api::NonceLedger>(*store);
    } catch (const std::exception& e) {
      log::error("{}", e.what());
      return 1;
    }
    iam->set_region(cfg.mq.region);
    authz = std::make_unique<iam::Authorizer>(*iam);
    if (!bootstrap(cfg, *iam, *mq, *store)) return 1;
    bind_mq_to_broker(*mq, broker);
    mq::AccessOptions ao;
    ao.default_instance = cfg.mq.default_instance;
    ao.token_notice_lead_ms = cfg.mq.token_notice_lead_s * 1000;
    ao.auth_fail_burst = static_cast<double>(cfg.mq.auth_fail_burst);
    ao.auth_fail_per_second = static_cast<double>(cfg.mq.auth_fail_per_second);
    ao.store_grace_ms = cfg.store.unavailable_grace_s < 0 ? -1 : cfg.store.unavailable_grace_s * 1000;
    auto mq_access = std::make_unique<mq::MqAccessControl>(broker, *mq, *authz, ao, api::make_mq_audit_sink(audit));
    audit_mqtt = mq_access.get();
    access = std::move(mq_access);
    log::info("authentication required (Signature, Token, DeviceCredential, Custom); region {}", cfg.mq.region);
  }

  // Broker state: read back before any client connects, then recorded as it changes.
  persist::BrokerStoreOptions so;
  if (!persist::parse_fsync_mode(cfg.fsync, so.fsync)) {
    log::error("fsync must be always, batch or off (got \"{}\")", cfg.fsync);
    return 1;
  }
  so.window_ms = cfg.fsync_window_ms;
  so.rule_hold_ms = cfg.rules.hold_ms;
  std::unique_ptr<persist::BrokerStore> persist;
  std::vector<broker::RecoveredRuleEntry> rule_backlog;
  // Declared after `persist`, so it runs first on every return: the namespaces
  // outlive the store, and ending their sessions at shutdown must not reach it.
  struct Detach {
    broker::Broker& b;
    ~Detach() { b.set_persistence(nullptr); }
  } detach{broker};
  if (node) {
    // The cluster's engines hold what broker.db holds on one node.
    broker.set_persistence(&node->durability());
  } else try {
    const auto t0 = std::chrono::steady_clock::now();
    persist = std::make_unique<persist::BrokerStore>(cfg.data_dir + "/broker.db", so);
    broker::Recovered rec = persist->recover();
    size_t queued = 0;
    for (const auto& s : rec.sessions) queued += s.entries.size();
    const size_t retained = rec.retained.size();
    broker.set_persistence(persist.get());
    rule_backlog = std::move(rec.rule_entries);  // issue 19: given to the rules engine below
    const size_t sessions = broker.restore(std::move(rec));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    log::info("broker state recovered in {} ms: {} sessions, {} queued messages, {} retained (fsync {})",
              ms, sessions, queued, retained, cfg.fsync);
  } catch (const std::exception& e) {
    log::error("broker state ({}/broker.db): {}", cfg.data_dir, e.what());
    return 1;
  }

  net::Server server(cfg.mqtt, broker, *access);
  // Issue 18: a TLS client whose SNI names a mutual-TLS instance has its
  // certificate verified against that instance's CAs in the handshake.
  if (mq)
    server.set_client_ca_selector([m = mq.get()](std::string_view name) -> std::shared_ptr<x509_store_st> {
      const auto st = m->state();
      return st ? mq::handshake_trust(*st, name) : nullptr;
    });
  // ... and a client refused there is audited as a denial of that instance.
  if (mq && audit_mqtt)
    server.set_tls_refusal_reporter(
        [m = mq.get(), a = audit_mqtt](std::string_view name, std::string_view peer, std::string_view why) {
          const auto st = m->state();
          if (auto e = st ? mq::handshake_refusal(*st, name, peer, why, m->now_ms()) : std::nullopt) a->audit(std::move(*e));
        });
  server.set_persistence(node ? &node->durability() : static_cast<broker::Persistence*>(persist.get()));
  // Data rules and client status events (issue 19, docs/rules.md; wired in
  // serve_rules.cpp): before the listeners open, so backlogs resume at once.
  LoopsGate loops;
  std::shared_ptr<rules::RulesEngine> rules_engine =
      mq ? start_rules(server, broker, *mq, std::move(rule_backlog), cfg.data_dir, loops) : nullptr;
  struct StopRules {  // every return: the runners stop before the server and the store go
    std::shared_ptr<rules::RulesEngine>& e;
    ~StopRules() { e.reset(); }
  } stop_rules{rules_engine};
  api::HttpServer http(cfg.http);
  // The nonce ledger's callbacks answer this server's requests: the ledger
  // stops before the server does, on every way out of here.
  struct StopLedgerFirst {
    api::NonceLedger* ledger;
    ~StopLedgerFirst() {
      if (ledger) ledger->stop();
    }
  } stop_ledger_first{nonces.get()};
  try {
    {
      std::lock_guard lk(loops.mu);  // the rules' hand-offs wait for the loops (serve_rules.hpp)
      server.start();
      loops.up = true;
    }
    // After start(): the writer's reports walk the server's loops.
    if (persist) persist->start([&server](uint64_t ticket) { server.durable(ticket); });
    if (node) {
      node->on_serving([&server](bool serving) { server.set_serving(serving); });
      node->set_access(*access);  // a dead node's wills are decided against their clients' rights
      node->start(broker, server, [&server](uint64_t ticket) { server.durable(ticket); });
      if (mq) bind_mq_to_peers(*mq, node->peers());  // before the API serves
    }
    http.route("/metrics", [&](const api::HttpRequest&) {
      return api::HttpResponse{200, "text/plain; version=0.0.4", {}, render_metrics(broker, server, node.get()) +
                                                         (rules_engine ? rules_engine->metrics_text() : std::string())};
    });
    http.route("/healthz", [](const api::HttpRequest&) {
      return api::HttpResponse{200, "text/plain", {}, "ok\n"};
    });
    std::shared_ptr<api::RpcEndpoint> rpc;
    if (iam) {
      api::RpcServices rs{iam.get(), authz.get(), audit.get(), mq.get()};
      rs.nonces = nonces.get();
      rs.publish = [&server](const std::string& ns, broker::MessagePtr m, const std::string& origin) {
        return server.publish_from_outside(ns, std::move(m), origin);
      };
      if (node)
        rs.node_counters = [n = node.get()](const std::string& id) {
          std::vector<api::RpcServices::NodeCounters> out;
          for (const auto& f : n->leases().figures(id))
            out.push_back({f.node, f.alive, f.node == n->options().node_name, f.connections, f.publishes_last_second});
          return out;
        };
      rs.counters = [&broker](const std::string& id) {
        api::RpcServices::NamespaceCounters k;
        if (auto ns = broker.find(id)) {
          for (const auto& s : ns->sessions()) k.online_clients += s->online() ? 1 : 0;
          k.subscriptions = ns->subscription_count();
          auto mc = ns->message_counts();
          k.messages_in = mc.in;
          k.messages_out = mc.out;
          k.denied = mc.denied;
          k.queued = static_cast<uint64_t>(std::max<int64_t>(0, ns->queue_budget()->queued.load()));
        }
        return k;
      };
      rs.endpoints = endpoints(cfg, server);
      rpc = api::register_rpc(http, rs);  // the cloud RPC API at "/"
    }
    api::register_console(http, rpc, console_options(cfg));  // the web console at /console/
    if (cfg.http.port >= 0) http.start();
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    if (persist) persist->stop();
    if (node) node->stop();
    return 1;
  }
  log::info("sluice ready: mqtt={} mqtts={} ws={} wss={} http={} threads={} max_connections={} "
            "http_max_connections={}",
            server.port(net::Transport::Tcp), server.port(net::Transport::Tls),
            server.port(net::Transport::Ws), server.port(net::Transport::Wss),
            cfg.http.port >= 0 ? http.port() : -1, cfg.mqtt.threads, cfg.mqtt.max_connections,
            cfg.http.max_connections);

  // The main thread waits for a signal, and meanwhile takes replaced secrets out of the
  // first-start credentials file (the root password once changed, the key once deleted).
  std::optional<InitialCredentials> initial;
  if (iam) initial.emplace(cfg.data_dir, *iam);
  int sig = 0;
  const timespec every{5, 0};
  do {
    if (initial) initial->scrub();
    sig = sigtimedwait(&set, nullptr, &every);
  } while (sig <= 0);
  log::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  if (nonces) nonces->stop();  // what waits on it is answered (503) while the server still runs
  http.stop();
  if (rules_engine) rules_engine->stop();  // issue 19: backlogs stay in the store
  if (node) node->stop();  // first: its watchdog must not reach a stopped server
  server.stop();
  if (persist) persist->stop();
  log::info("stopped");
  return 0;
}

}  // namespace sluice::app
