#pragma once
// Sluice's configuration: defaults, then a TOML file, then SLUICE_* environment
// variables, then command-line flags (each overriding the one before).
#include <string>

#include "api/http_server.hpp"
#include "broker/config.hpp"
#include "net/options.hpp"

namespace sluice::app {

struct Config {
  std::string data_dir = "./data";
  bool allow_anonymous = true;  // until authentication lands (see docs/configuration.md)
  std::string log_level = "info";
  bool log_json = false;
  net::ServerOptions mqtt;
  api::HttpOptions http;
  broker::NamespaceConfig broker;
};

// Loads `path` (TOML) over `cfg`. Throws std::runtime_error naming the file,
// line and key on a bad file or value.
void load_toml(const std::string& path, Config& cfg);
// Applies SLUICE_* environment variables (e.g. SLUICE_MQTT_PORT, SLUICE_DATA_DIR).
void load_env(Config& cfg);
// The effective configuration as TOML (for `sluice config`), secrets excluded.
std::string to_toml(const Config& cfg);

}  // namespace sluice::app
