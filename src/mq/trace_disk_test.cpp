// Traces on disk (issue 21): read back after a reopen, bounded by age and by rows.
#include "mq/trace_disk.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace sluice::mq {
namespace {

struct TmpFile {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("sluice-traces-" + std::to_string(::getpid()) + "-" + std::to_string(wall_ms()));
  TmpFile() { std::filesystem::create_directories(dir); }
  ~TmpFile() { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "traces.db").string(); }
};

struct Loaded {
  std::vector<std::pair<std::string, DeviceTrace>> dev;
  std::vector<std::pair<std::string, MessageTrace>> msg;
};
Loaded load(TraceDisk& d) {
  Loaded l;
  d.load([&](const std::string& i, DeviceTrace t) { l.dev.emplace_back(i, std::move(t)); },
         [&](const std::string& i, MessageTrace t) { l.msg.emplace_back(i, std::move(t)); });
  return l;
}

TEST(TraceDisk, ReadBackAfterReopenOldestFirst) {
  TmpFile f;
  const int64_t now = wall_ms();
  {
    TraceDisk d(f.path(), {});
    d.device("mqtt-a", DeviceTrace{now - 2, "GID_x@@@1", "connect", "", "ch1", "127.0.0.1"});
    d.device("mqtt-a", DeviceTrace{now - 1, "GID_x@@@1", "disconnect", "normal", "ch1", "127.0.0.1"});
    d.message("mqtt-b", MessageTrace{now, "M1", "Sensors/a", "GID_x@@@2", "pub", 1});
  }  // the destructor writes what is queued
  TraceDisk d(f.path(), {});
  auto l = load(d);
  ASSERT_EQ(l.dev.size(), 2u);
  EXPECT_EQ(l.dev[0].first, "mqtt-a");
  EXPECT_EQ(l.dev[0].second.action, "connect");
  EXPECT_EQ(l.dev[1].second.reason, "normal");
  EXPECT_EQ(l.dev[1].second.remote_ip, "127.0.0.1");
  ASSERT_EQ(l.msg.size(), 1u);
  EXPECT_EQ(l.msg[0].second.msg_id, "M1");
  EXPECT_EQ(l.msg[0].second.qos, 1);
}

TEST(TraceDisk, BoundedByAgeAndRows) {
  TmpFile f;
  const int64_t now = wall_ms();
  TraceDiskLimits lim;
  lim.max_device_rows = 10;
  lim.max_age_ms = 3600 * 1000;
  {
    TraceDisk d(f.path(), lim);
    d.device("mqtt-a", DeviceTrace{now - 2 * 3600 * 1000, "old", "connect", "", "", ""});  // beyond the retention
    for (int i = 0; i < 25; ++i) d.device("mqtt-a", DeviceTrace{now, "c" + std::to_string(i), "connect", "", "", ""});
  }
  TraceDisk d(f.path(), lim);  // opening prunes
  auto l = load(d);
  ASSERT_EQ(l.dev.size(), 10u);
  EXPECT_EQ(l.dev.front().second.client_id, "c15");  // the newest 10
  EXPECT_EQ(l.dev.back().second.client_id, "c24");
}

TEST(TraceDisk, DroppedInstanceIsGone) {
  TmpFile f;
  {
    TraceDisk d(f.path(), {});
    d.device("mqtt-a", DeviceTrace{wall_ms(), "c", "connect", "", "", ""});
    d.device("mqtt-b", DeviceTrace{wall_ms(), "c", "connect", "", "", ""});
    d.drop_instance("mqtt-a");
  }
  TraceDisk d(f.path(), {});
  auto l = load(d);
  ASSERT_EQ(l.dev.size(), 1u);
  EXPECT_EQ(l.dev[0].first, "mqtt-b");
}

}  // namespace
}  // namespace sluice::mq
