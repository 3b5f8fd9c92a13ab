#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "app/config.hpp"

using sluice::app::Config;

namespace {
std::string write_file(const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("sluice-config-test-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(p) << text;
  return p.string();
}

// Loading `toml` fails with a message that contains `needle`.
void expect_load_error(Config& c, const std::string& toml, const std::string& needle) {
  auto path = write_file(toml);
  try {
    sluice::app::load_toml(path, c);
    ADD_FAILURE() << "expected an error containing " << needle;
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}
}  // namespace

TEST(Config, TomlOverridesDefaults) {
  Config c;
  auto path = write_file(
      "data_dir = \"/tmp/x\"\n[mqtt]\nport = 1999\nws_port = 8083\nthreads = 3\n"
      "[http]\nport = 9090\n[broker]\nmax_queued_messages = 5\nretain_available = false\n");
  sluice::app::load_toml(path, c);
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_EQ(c.mqtt.mqtt_port, 1999);
  EXPECT_EQ(c.mqtt.ws_port, 8083);
  EXPECT_EQ(c.mqtt.threads, 3u);
  EXPECT_EQ(c.http.port, 9090);
  EXPECT_EQ(c.broker.max_queued_messages, 5u);
  EXPECT_FALSE(c.broker.retain_available);
  std::filesystem::remove(path);
}

TEST(Config, UnknownKeyIsAnErrorNamingIt) {
  Config c;
  expect_load_error(c, "[mqtt]\nprot = 1\n", "prot");
}

TEST(Config, WrongTypeNamesTheLine) {
  Config c;
  expect_load_error(c, "[mqtt]\n\nport = \"x\"\n", ":3:");
}

TEST(Config, OutOfRangeNumberIsRefusedNotWrapped) {
  Config c;
  const auto before = c.broker.max_queued_bytes;
  expect_load_error(c, "[broker]\nmax_queued_bytes = -1\n", "max_queued_bytes must be between 0 and");
  EXPECT_EQ(c.broker.max_queued_bytes, before);
  setenv("SLUICE_BROKER_MAX_INFLIGHT", "70000", 1);  // a uint16_t
  EXPECT_THROW(sluice::app::load_env(c), std::runtime_error);
  unsetenv("SLUICE_BROKER_MAX_INFLIGHT");
  EXPECT_EQ(c.broker.max_inflight, 1024);
}

TEST(Config, SyntaxErrorIsReported) {
  Config c;
  auto path = write_file("[mqtt\n");
  EXPECT_THROW(sluice::app::load_toml(path, c), std::runtime_error);
  std::filesystem::remove(path);
}

TEST(Config, EnvironmentOverrides) {
  Config c;
  setenv("SLUICE_MQTT_PORT", "2883", 1);
  setenv("SLUICE_BROKER_SHARED_SUBSCRIPTIONS", "false", 1);
  sluice::app::load_env(c);
  EXPECT_EQ(c.mqtt.mqtt_port, 2883);
  EXPECT_FALSE(c.broker.shared_subscriptions);
  setenv("SLUICE_MQTT_PORT", "abc", 1);
  EXPECT_THROW(sluice::app::load_env(c), std::runtime_error);
  unsetenv("SLUICE_MQTT_PORT");
  unsetenv("SLUICE_BROKER_SHARED_SUBSCRIPTIONS");
}

TEST(Config, ConsoleSettings) {
  Config c;
  auto path = write_file("console_dir = \"/srv/console\"\n[console]\nidle_timeout_s = 600\n");
  sluice::app::load_toml(path, c);
  std::filesystem::remove(path);
  EXPECT_EQ(c.console_dir, "/srv/console");
  EXPECT_EQ(c.console.idle_timeout_s, 600);
  EXPECT_EQ(c.console.absolute_timeout_s, 12 * 3600);
  setenv("SLUICE_CONSOLE_DIR", "/opt/console", 1);
  setenv("SLUICE_CONSOLE_LOGIN_FAILURES_PER_MINUTE", "3", 1);
  sluice::app::load_env(c);
  unsetenv("SLUICE_CONSOLE_DIR");
  unsetenv("SLUICE_CONSOLE_LOGIN_FAILURES_PER_MINUTE");
  EXPECT_EQ(c.console_dir, "/opt/console");
  EXPECT_EQ(c.console.login_failures_per_minute, 3);
  EXPECT_NE(sluice::app::to_toml(c).find("[console]\nidle_timeout_s = 600"), std::string::npos);
}

TEST(Config, ConsoleTrustedProxies) {
  Config c;
  auto path = write_file("[console]\ntrusted_proxies = [\"10.0.0.1\", \"fd00::/8\"]\nlogin_failures_per_name_per_minute = 4\n");
  sluice::app::load_toml(path, c);
  std::filesystem::remove(path);
  EXPECT_EQ(c.console.trusted_proxies, (std::vector<std::string>{"10.0.0.1", "fd00::/8"}));
  EXPECT_EQ(c.console.login_failures_per_name_per_minute, 4);
  EXPECT_NE(sluice::app::to_toml(c).find("trusted_proxies = [\"10.0.0.1\", \"fd00::/8\"]"), std::string::npos);
  setenv("SLUICE_CONSOLE_TRUSTED_PROXIES", "127.0.0.1, 192.168.0.0/16", 1);
  sluice::app::load_env(c);
  unsetenv("SLUICE_CONSOLE_TRUSTED_PROXIES");
  EXPECT_EQ(c.console.trusted_proxies, (std::vector<std::string>{"127.0.0.1", "192.168.0.0/16"}));
  expect_load_error(c, "[console]\ntrusted_proxies = [\"10.0.0.1\", \"proxy.local\"]\n", "proxy.local");
  expect_load_error(c, "[console]\ntrusted_proxies = [1]\n", "array of strings");
  Config d;
  setenv("SLUICE_CONSOLE_TRUSTED_PROXIES", "10.0.0.0/33", 1);
  EXPECT_THROW(sluice::app::load_env(d), std::runtime_error);
  unsetenv("SLUICE_CONSOLE_TRUSTED_PROXIES");
}

TEST(Config, ConnectionBudgetsFromFileAndEnvironment) {
  Config c;
  EXPECT_EQ(c.mqtt.max_pending_connects_per_source, 128u) << "on by default";
  EXPECT_EQ(c.http.max_connections, 1024u);
  EXPECT_EQ(c.http.max_connections_per_source, 64u);
  auto path = write_file("[mqtt]\nmax_pending_connects_per_source = 7\n[http]\nmax_connections = 100\n"
                         "max_connections_per_source = 9\nidle_timeout_s = 5\nheader_timeout_s = 3\n"
                         "request_timeout_s = 20\nrefused_audit_window_s = 120\n");
  sluice::app::load_toml(path, c);
  std::filesystem::remove(path);
  EXPECT_EQ(c.mqtt.max_pending_connects_per_source, 7u);
  EXPECT_EQ(c.http.max_connections, 100u);
  EXPECT_EQ(c.http.max_connections_per_source, 9u);
  EXPECT_EQ(c.http.idle_timeout_seconds, 5u);
  EXPECT_EQ(c.http.header_timeout_seconds, 3u);
  EXPECT_EQ(c.http.timeout_seconds, 20u);
  EXPECT_EQ(c.refused_audit_window_s, 120);
  setenv("SLUICE_HTTP_MAX_CONNECTIONS_PER_SOURCE", "0", 1);
  setenv("SLUICE_MQTT_MAX_PENDING_CONNECTS_PER_SOURCE", "1000", 1);
  sluice::app::load_env(c);
  unsetenv("SLUICE_HTTP_MAX_CONNECTIONS_PER_SOURCE");
  unsetenv("SLUICE_MQTT_MAX_PENDING_CONNECTS_PER_SOURCE");
  EXPECT_EQ(c.http.max_connections_per_source, 0u);
  EXPECT_EQ(c.mqtt.max_pending_connects_per_source, 1000u);
  const std::string t = sluice::app::to_toml(c);
  EXPECT_NE(t.find("max_pending_connects_per_source = 1000"), std::string::npos) << t;
  EXPECT_NE(t.find("max_connections_per_source = 0"), std::string::npos) << t;
}

// The control store: [store] postgres in the file, SLUICE_POSTGRES in the
// environment (over the file); printed without its password.
TEST(Config, PostgresStoreFromFileAndEnvironment) {
  Config c;
  EXPECT_TRUE(c.store.postgres.empty());  // SQLite stays the default
  auto path = write_file("[store]\npostgres = \"host=db1 dbname=sluice password=s3cret\"\nunavailable_grace_s = 5\n");
  sluice::app::load_toml(path, c);
  std::filesystem::remove(path);
  EXPECT_EQ(c.store.postgres, "host=db1 dbname=sluice password=s3cret");
  EXPECT_EQ(c.store.unavailable_grace_s, 5);
  const std::string printed = sluice::app::to_toml(c);
  EXPECT_NE(printed.find("postgres = \"dbname=sluice host=db1\""), std::string::npos) << printed;
  EXPECT_EQ(printed.find("s3cret"), std::string::npos) << printed;
  ::setenv("SLUICE_POSTGRES", "host=db2", 1);
  sluice::app::load_env(c);
  ::unsetenv("SLUICE_POSTGRES");
  EXPECT_EQ(c.store.postgres, "host=db2");
}

// [cluster] nats: a TOML array or a comma-separated string (file, environment,
// --nats alike); anything but nats:// or tls:// URLs is refused, naming it.
TEST(Config, ClusterNatsUrlsAreCheckedEverywhere) {
  Config c;
  auto path = write_file("[cluster]\nnats = [\"nats://a:4222\", \"tls://b:4222\"]\nnode_name = \"n1\"\n");
  sluice::app::load_toml(path, c);
  std::filesystem::remove(path);
  EXPECT_EQ(c.cluster.nats, (std::vector<std::string>{"nats://a:4222", "tls://b:4222"}));
  EXPECT_EQ(c.cluster.node_name, "n1");
  path = write_file("[cluster]\nnats = [\"http://a:4222\"]\n");
  try {
    sluice::app::load_toml(path, c);
    ADD_FAILURE() << "an http:// URL was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("\"http://a:4222\" is not a nats:// or tls:// URL"), std::string::npos)
        << e.what();
  }
  std::filesystem::remove(path);
  ::setenv("SLUICE_CLUSTER_NATS", "nats://x:1,nats://y:2", 1);
  sluice::app::load_env(c);
  ::unsetenv("SLUICE_CLUSTER_NATS");
  EXPECT_EQ(c.cluster.nats.size(), 2u);
  sluice::app::set_option(c, "cluster", "nats", "nats://z:3");
  EXPECT_EQ(c.cluster.nats, std::vector<std::string>{"nats://z:3"});
  EXPECT_THROW(sluice::app::set_option(c, "cluster", "nats", "z:3"), std::runtime_error);
  EXPECT_THROW(sluice::app::set_option(c, "cluster", "no_such_key", "1"), std::runtime_error);
}
