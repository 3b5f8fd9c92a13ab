#pragma once
// Sluice's configuration: defaults, then a TOML file, then SLUICE_* environment
// variables, then command-line flags (each overriding the one before).
#include <string>
#include <string_view>
#include <vector>

#include "api/http_server.hpp"
#include "broker/config.hpp"
#include "net/options.hpp"

namespace sluice::app {

// The ApsaraMQ layer (src/mq): region, instance defaults, auth and trace limits.
struct MqSettings {
  std::string region = "local";          // instance ids are mqtt-<region>-<random>
  std::string default_instance;          // Custom auth when SNI / Host names no instance
  // The host name clients use, shown in the instance endpoints ("" = the MQTT
  // listen address when it is a specific one, else this machine's host name).
  std::string endpoint_host;
  bool strict_client_id = true;          // defaults of new instances (a per-instance switch)
  bool strict_topic = true;
  bool close_on_denied_publish = true;   // MQTT 3.x: close (cloud behaviour) or drop silently
  bool message_trace = false;            // message traces of new instances (opt-in: costs ~1x routing)
  int64_t token_notice_lead_s = 300;     // $SYS/tokenExpireNotice this long before expiry
  int64_t token_min_ttl_s = 60;          // ApplyToken ExpireTime window
  int64_t trace_max_age_s = 3 * 24 * 3600;
  int64_t trace_max_device_events = 100000;   // per instance
  int64_t trace_max_message_events = 200000;  // per instance
  int64_t auth_fail_burst = 20;          // failed CONNECTs per source address before refusing ...
  int64_t auth_fail_per_second = 2;      // ... and then this many per second
};

// Several nodes as one service (src/cluster, docs/cluster.md). Without `nats`
// the node is a single node, exactly as before.
struct ClusterSettings {
  std::vector<std::string> nats;  // NATS URLs (--nats a,b,c)
  std::string node_name;          // unique in the cluster (--node-name)
  int64_t replicas = 1;           // of the message stream and the retained bucket (1 or 3)
  int64_t message_max_age_s = 3LL * 24 * 3600;  // how long QoS 1/2 messages stay in the log
};

// The control store (docs/control-store.md). Without `postgres` it is SQLite in
// the data dir (one node); with it, every node given the same conninfo shares
// one PostgreSQL store (and needs the same master key).
struct StoreSettings {
  std::string postgres;  // libpq conninfo or postgresql:// URI (--postgres, SLUICE_POSTGRES)
  // PostgreSQL lost while running: connected MQTT clients keep the decisions
  // cached for them this long, then are disconnected (0: at once).
  int64_t unavailable_grace_s = 60;
  // The change feed's backstop: every node reloads what it cached this often
  // whatever it heard (a lost notification is healed within this time).
  int64_t backstop_s = 30;
};

// Identity (src/iam): RAM's limits where a deployment may want its own.
struct IamSettings {
  // AssumeRole's shortest DurationSeconds (the cloud's 900). A local twin for CI
  // may lower it to see credentials expire within a test.
  int64_t sts_min_duration_s = 900;
};

// The web console (src/api/console_*.cpp).
struct ConsoleSettings {
  int64_t idle_timeout_s = 30 * 60;          // a session unused this long is signed out
  int64_t absolute_timeout_s = 12 * 3600;    // and any session after this long
  int64_t login_failures_per_minute = 10;    // per source address, then 429
  int64_t login_failures_per_name_per_minute = 10;  // per login name (from any address), then 429
  // Reverse proxies whose X-Forwarded-Proto / X-Forwarded-For are believed
  // (addresses or CIDR blocks; api/console_proxy.hpp).
  std::vector<std::string> trusted_proxies;
};

// Data rules (docs/rules.md). Loopback, link-local and other addresses a
// tenant's rule may not reach (common/egress.hpp) unless listed here.
struct RulesSettings {
  std::vector<std::string> allowed_target_networks;  // addresses or CIDR blocks
  // How long a QoS 1/2 entry may wait for its target before the broker store
  // writes it (0..1000 ms; the PUBACK waits for whichever comes first).
  int hold_ms = 30;
};

struct Config {
  std::string data_dir = "./data";
  bool allow_anonymous = false;  // development only: --allow-anonymous
  bool demo = false;             // first start: create a demo instance and print a working client pair
  std::string console_dir;       // the built console; "" = <directory of the sluice binary>/console
  // Broker state (<data-dir>/broker.db): "always" | "batch" | "off" (see docs/reliability.md).
  std::string fsync = "batch";
  int fsync_window_ms = 0;       // batch: after a quiet spell, how long the store's writer gathers records before one write and fdatasync (0..10)
  std::string log_level = "info";
  bool log_json = false;
  net::ServerOptions mqtt;
  // [http] threads = 0 (the default): chosen at start (serve.cpp): the cores,
  // at most 4, on SQLite; four times that on PostgreSQL, where a handler
  // waits for round trips (the shared nonce, a write) and others must run meanwhile.
  api::HttpOptions http{.threads = 0};
  broker::NamespaceConfig broker;
  // [broker] max_queued_bytes_total: memory all session queues together may hold.
  // -1 = a quarter of physical memory, 0 = unlimited.
  int64_t max_queued_bytes_total = -1;
  MqSettings mq;
  ClusterSettings cluster;
  StoreSettings store;
  IamSettings iam;
  ConsoleSettings console;
  RulesSettings rules;
  // [http] refused_audit_window_s: malformed / oversized requests are audited as
  // one row per source and reason as they start, then one with the count per window.
  int64_t refused_audit_window_s = 60;
};

// Loads `path` (TOML) over `cfg`. Throws std::runtime_error naming the file,
// line and key on a bad file or value.
void load_toml(const std::string& path, Config& cfg);
// Applies SLUICE_* environment variables (e.g. SLUICE_MQTT_PORT, SLUICE_DATA_DIR).
void load_env(Config& cfg);
// Sets one setting from its text as the environment would give it (a command
// line flag: "--nats a,b" is [cluster] nats); throws std::runtime_error naming it.
void set_option(Config& cfg, std::string_view section, std::string_view key, const std::string& text);
// The effective configuration as TOML (for `sluice config`), secrets excluded.
std::string to_toml(const Config& cfg);

}  // namespace sluice::app
