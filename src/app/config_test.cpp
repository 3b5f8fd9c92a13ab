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
  auto path = write_file("[mqtt]\nprot = 1\n");
  try {
    sluice::app::load_toml(path, c);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("prot"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(Config, WrongTypeNamesTheLine) {
  Config c;
  auto path = write_file("[mqtt]\n\nport = \"x\"\n");
  try {
    sluice::app::load_toml(path, c);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(":3:"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
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
