// Per-instance /metrics series (issue 21): one series per instance up to the
// bound, the rest summed as instance="_other" so the totals still add up.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "app/metrics.hpp"
#include "broker/broker.hpp"
#include "broker/namespace.hpp"

namespace sluice::app {
namespace {

// {label value: sample} of one family.
std::map<std::string, uint64_t> samples(const std::string& text, const std::string& family) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string line;
  const std::string head = family + "{instance=\"";
  while (std::getline(in, line)) {
    if (line.rfind(head, 0) != 0) continue;
    const auto end = line.find("\"}", head.size());
    out[line.substr(head.size(), end - head.size())] = std::stoull(line.substr(end + 3));
  }
  return out;
}

TEST(InstanceMetrics, OneSeriesPerInstanceUpToTheBoundThenOther) {
  broker::Broker b(1);
  for (int i = 0; i < 3; ++i) b.get_or_create("mqtt-small-" + std::to_string(i))->count_denied(0);
  std::string text;
  render_instance_metrics(text, b);
  auto denied = samples(text, "sluice_instance_denied_total");
  EXPECT_EQ(denied.size(), 3u);
  EXPECT_EQ(denied["mqtt-small-1"], 1u);
  EXPECT_EQ(denied.count("_other"), 0u);
  for (const char* f : {"sluice_instance_connections", "sluice_instance_messages_in_total",
                        "sluice_instance_messages_out_total", "sluice_instance_queued_messages"})
    EXPECT_EQ(samples(text, f).size(), 3u) << f;

  for (int i = 3; i < 250; ++i) b.get_or_create("mqtt-small-" + std::to_string(i))->count_denied(0);
  text.clear();
  render_instance_metrics(text, b);
  denied = samples(text, "sluice_instance_denied_total");
  EXPECT_EQ(denied.size(), 101u);  // 100 instances + _other
  uint64_t sum = 0;
  for (const auto& [id, v] : denied) sum += v;
  EXPECT_EQ(sum, 250u);
  EXPECT_EQ(denied["_other"], 150u);
  EXPECT_NE(text.find("sluice_instances 250"), std::string::npos);
}

}  // namespace
}  // namespace sluice::app
