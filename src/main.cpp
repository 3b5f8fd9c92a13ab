// sluice: the server (`sluice serve`) and the operator command line (`sluice admin`).
#include <CLI/CLI.hpp>

#include <cstring>
#include <optional>
#include <iostream>

#include "app/config.hpp"
#include "app/serve.hpp"
#include "common/log.hpp"
#include "app/admin.hpp"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "admin") == 0) return sluice::app::admin_main(argc - 1, argv + 1);
  CLI::App app{"Sluice: a self-hosted MQTT service compatible with ApsaraMQ for MQTT"};
  app.require_subcommand(1);
  sluice::app::Config cfg;
  std::string config_file;
  bool print_config = false;

  auto* serve = app.add_subcommand("serve", "Run the MQTT broker, the management API and the console");
  serve->add_option("--config", config_file, "TOML configuration file");
  // Flags are parsed into optionals and applied after the file and environment.
  std::optional<std::string> data_dir, host, tls_cert, tls_key, tls_ca, log_level, console_dir, fsync;
  std::optional<int> mqtt_port, mqtts_port, ws_port, wss_port, http_port;
  std::optional<unsigned> threads;
  bool anonymous = false, log_json = false, demo = false;
  serve->add_option("--data-dir", data_dir, "Directory for the embedded store (default ./data)");
  serve->add_option("--console-dir", console_dir, "The built web console (default: <binary's directory>/console)");
  serve->add_option("--host", host, "Address the MQTT and HTTP listeners bind to (default 0.0.0.0)");
  serve->add_option("--mqtt-port", mqtt_port, "MQTT over TCP port (default 1883; -1 off)");
  serve->add_option("--mqtts-port", mqtts_port, "MQTT over TLS port (default off)");
  serve->add_option("--ws-port", ws_port, "MQTT over WebSocket port (default off)");
  serve->add_option("--wss-port", wss_port, "MQTT over secure WebSocket port (default off)");
  serve->add_option("--http-port", http_port, "Management API, console and /metrics (default 8080; -1 off)");
  serve->add_option("--threads", threads, "Event-loop threads (default: one per core)");
  serve->add_option("--tls-cert", tls_cert, "PEM certificate chain for TLS listeners");
  serve->add_option("--tls-key", tls_key, "PEM private key for TLS listeners");
  serve->add_option("--tls-ca", tls_ca, "PEM CA bundle: verify client certificates");
  serve->add_flag("--allow-anonymous", anonymous, "Development only: accept clients without credentials");
  serve->add_flag("--demo", demo, "First start: also create a demo instance, topic and group, print a working client pair");
  serve->add_option("--log-level", log_level, "debug | info | warn | error");
  serve->add_option("--fsync", fsync, "Broker state durability: always | batch (default) | off");
  serve->add_flag("--log-json", log_json, "Structured JSON log lines");
  serve->add_flag("--print-config", print_config, "Print the effective configuration and exit");
  std::optional<std::string> nats, node_name;
  serve->add_option("--nats", nats, "Join a cluster: NATS URLs, comma-separated (docs/cluster.md)");
  serve->add_option("--node-name", node_name, "This node's name in the cluster (unique)");
  std::optional<std::string> postgres;
  serve->add_option("--postgres", postgres,
                    "Control store in PostgreSQL (libpq conninfo or postgresql:// URI), shared by every node given it; "
                    "default: SQLite in the data dir");

  app.add_subcommand("version", "Print the version")->callback([] { std::cout << "sluice 0.1.0\n"; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!serve->parsed()) return 0;

  try {
    if (!config_file.empty()) sluice::app::load_toml(config_file, cfg);
    sluice::app::load_env(cfg);
    if (nats) sluice::app::set_option(cfg, "cluster", "nats", *nats);
  } catch (const std::exception& e) {
    std::cerr << "sluice: " << e.what() << "\n";
    return 2;
  }
  if (data_dir) cfg.data_dir = *data_dir;
  if (console_dir) cfg.console_dir = *console_dir;
  if (host) cfg.mqtt.host = cfg.http.host = *host;
  if (mqtt_port) cfg.mqtt.mqtt_port = *mqtt_port;
  if (mqtts_port) cfg.mqtt.mqtts_port = *mqtts_port;
  if (ws_port) cfg.mqtt.ws_port = *ws_port;
  if (wss_port) cfg.mqtt.wss_port = *wss_port;
  if (http_port) cfg.http.port = *http_port;
  if (threads) cfg.mqtt.threads = *threads;
  if (tls_cert) cfg.mqtt.tls_cert = *tls_cert;
  if (tls_key) cfg.mqtt.tls_key = *tls_key;
  if (tls_ca) cfg.mqtt.tls_ca = *tls_ca;
  if (anonymous) cfg.allow_anonymous = true;
  if (demo) cfg.demo = true;
  if (log_level) cfg.log_level = *log_level;
  if (fsync) cfg.fsync = *fsync;
  if (log_json) cfg.log_json = true;
  if (node_name) cfg.cluster.node_name = *node_name;
  if (postgres) cfg.store.postgres = *postgres;
  if (print_config) {
    std::cout << sluice::app::to_toml(cfg);
    return 0;
  }
  sluice::log::init(cfg.log_level, cfg.log_json);
  return sluice::app::serve(std::move(cfg));
}
