// Refused requests are aggregated per source and reason (issue #14): a flood of
// malformed requests adds a bounded number of audit rows, and the count of what
// was refused is still there.
#include "api/audit_refusals.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/store.hpp"

using namespace sluice::api;
using namespace std::chrono_literals;
using Clock = RefusalAggregator::Clock;

namespace {
AuditEvent refused(const std::string& ip, const std::string& code = "BadRequest", int64_t t = 1000) {
  AuditEvent e;
  e.time_ms = t;
  e.event_type = "ApiCall";
  e.event_source = "http";
  e.event_name = kRefusedRequest;
  e.identity_type = "anonymous";
  e.source_ip = ip;
  e.request_id = "R" + std::to_string(t);
  e.parameters = "{}";
  e.error_code = code;
  e.error_message = "Malformed HTTP request.";
  e.http_status = 400;
  return e;
}
}  // namespace

TEST(RefusalAggregator, FirstRecordedRestCountedThenOneSummary) {
  RefusalAggregator a(60s, 100);
  const auto t0 = Clock::now();
  EXPECT_TRUE(a.admit(refused("10.0.0.1", "BadRequest", 1000), t0));
  for (int i = 1; i <= 999; ++i) EXPECT_FALSE(a.admit(refused("10.0.0.1", "BadRequest", 1000 + i), t0 + 1ms * i));
  EXPECT_TRUE(a.admit(refused("10.0.0.1", "RequestEntityTooLarge"), t0)) << "another reason: its own window";
  EXPECT_TRUE(a.admit(refused("10.0.0.2"), t0)) << "another source: its own window";
  EXPECT_TRUE(a.due(t0 + 59s).empty()) << "nothing before the window ends";
  auto s = a.due(t0 + 60s);
  ASSERT_EQ(s.size(), 1u) << "windows that counted nothing past their first need no summary";
  EXPECT_EQ(s[0].source_ip, "10.0.0.1");
  EXPECT_EQ(s[0].error_code, "BadRequest");
  EXPECT_EQ(s[0].event_name, kRefusedRequest);
  EXPECT_EQ(s[0].http_status, 400);
  EXPECT_EQ(s[0].time_ms, 1999) << "the time of the last one counted";
  EXPECT_NE(s[0].parameters.find("\"Count\":999"), std::string::npos) << s[0].parameters;
  EXPECT_NE(s[0].parameters.find("\"FirstEventTimeMs\":1000"), std::string::npos) << s[0].parameters;
  EXPECT_NE(s[0].error_message.find("999 more"), std::string::npos) << s[0].error_message;
  EXPECT_EQ(a.tracked(), 0u) << "ended windows are forgotten";
  EXPECT_TRUE(a.admit(refused("10.0.0.1"), t0 + 61s)) << "a new window records its first again";
}

TEST(RefusalAggregator, AWindowEndedBeforeDueStillReportsItsCount) {
  RefusalAggregator a(10s, 100);
  const auto t0 = Clock::now();
  EXPECT_TRUE(a.admit(refused("10.0.0.1"), t0));
  EXPECT_FALSE(a.admit(refused("10.0.0.1"), t0 + 1s));
  EXPECT_TRUE(a.admit(refused("10.0.0.1"), t0 + 11s)) << "the window ended: a new one starts";
  auto s = a.due(t0 + 12s);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_NE(s[0].parameters.find("\"Count\":1"), std::string::npos);
}

TEST(RefusalAggregator, ManySourcesShareOneWindowPastTheLimit) {
  RefusalAggregator a(60s, 4);
  const auto t0 = Clock::now();
  int recorded = 0;
  for (int i = 0; i < 10'000; ++i) recorded += a.admit(refused("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250)), t0);
  EXPECT_EQ(recorded, 5) << "four tracked sources and the shared window each record one";
  EXPECT_LE(a.tracked(), 5u);
  auto s = a.due(t0, /*all=*/true);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].source_ip, "*");
  EXPECT_NE(s[0].parameters.find("\"Count\":9995"), std::string::npos) << s[0].parameters;
}

TEST(AuditLogRefusals, AFloodAddsABoundedNumberOfRowsAndKeepsTheCount) {
  char tmpl[] = "/tmp/sluice-audit-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  {
    sluice::store::StoreOptions so;
    so.read_env = false;
    auto r = sluice::store::Store::open(dir + "/data", so);
    ASSERT_TRUE(r.store) << r.error;
    std::shared_ptr<sluice::store::Store> store(std::move(r.store));
    AuditOptions o;
    o.refusal_window_ms = 60'000;
    {
      AuditLog log(store, o);
      // Times of now: older ones would fall to the retention prune.
      const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
      for (int i = 0; i < 20'000; ++i) log.record(refused("127.0.0.2", "BadRequest", now + i));
      AuditEvent call;  // an ordinary (identified) call is recorded as always
      call.event_type = "ApiCall";
      call.event_name = "ListUsers";
      call.account_id = "123";
      call.source_ip = "127.0.0.2";
      log.record(call);
      log.flush();
      AuditQuery q;
      q.max_results = 1000;
      auto rows = log.lookup(q);
      EXPECT_EQ(rows.size(), 2u) << "the first refusal and the call; the rest is counted";
    }  // shutdown writes the count of the window still open
    AuditLog again(store, o);
    AuditQuery q;
    q.max_results = 1000;
    q.event_name = kRefusedRequest;
    auto rows = again.lookup(q);
    ASSERT_EQ(rows.size(), 2u) << (rows.empty() ? "" : AuditLog::to_json(rows[0]));
    EXPECT_NE(rows[0].parameters.find("\"Count\":19999"), std::string::npos) << rows[0].parameters;
    EXPECT_EQ(rows[0].source_ip, "127.0.0.2");
    EXPECT_EQ(rows[1].parameters, "{}");
  }
  std::filesystem::remove_all(dir);
}

TEST(AuditLogRefusals, UnidentifiedApiRefusalsAreAggregatedAndCut) {
  AuditEvent unsigned_call = refused("10.0.0.9", "MissingAccessKeyId");
  unsigned_call.event_name = "ListUsers";
  unsigned_call.parameters = "{\"Junk\":\"" + std::string(100'000, 'x') + "\"}";
  unsigned_call.error_message = std::string(600, 'y') + "\xC3\xA9";
  EXPECT_TRUE(is_unidentified_refusal(unsigned_call));
  AuditEvent identified = unsigned_call;
  identified.account_id = "123";
  EXPECT_FALSE(is_unidentified_refusal(identified)) << "a caller identified is recorded as always";
  AuditEvent ok_call = unsigned_call;
  ok_call.error_code.clear();
  EXPECT_FALSE(is_unidentified_refusal(ok_call));
  AuditEvent mqtt = unsigned_call;
  mqtt.event_type = "MqttAuth";
  EXPECT_FALSE(is_unidentified_refusal(mqtt)) << "MQTT denials: rate-limited per source where they happen";

  char tmpl[] = "/tmp/sluice-audit-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  {
    sluice::store::StoreOptions so;
    so.read_env = false;
    auto r = sluice::store::Store::open(dir + "/data", so);
    ASSERT_TRUE(r.store) << r.error;
    std::shared_ptr<sluice::store::Store> store(std::move(r.store));
    AuditLog log(store);
    unsigned_call.time_ms = 0;  // now
    for (int i = 0; i < 100; ++i) log.record(unsigned_call);
    AuditQuery q;
    auto rows = log.lookup(q);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].parameters, "{\"Truncated\":true,\"Bytes\":100011}");
    EXPECT_EQ(rows[0].error_message, std::string(512, 'y') + "...");
  }
  std::filesystem::remove_all(dir);
}
