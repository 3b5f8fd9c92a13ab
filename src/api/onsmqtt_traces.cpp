// OnsMqtt traces: what a device did (connects, disconnects) and where a message
// went (published, delivered to whom), over a time range.
#include <type_traits>

#include "api/onsmqtt_internal.hpp"
#include "api/ops_util.hpp"
#include "mq/mq_service.hpp"
#include "mq/trace.hpp"

namespace sluice::api::onsmqtt {

namespace {

struct Range {
  int64_t begin, end;
};
Range range(Call& c) {
  int64_t now = c.now() * 1000;
  int64_t b = c.opt_int("BeginTime", now - 3600 * 1000, 0, INT64_MAX);
  int64_t e = c.opt_int("EndTime", now + 1000, 0, INT64_MAX);
  if (b > e) fail("InvalidParameter.BeginTime", 400, "BeginTime must not be after EndTime.");
  return {b, e};
}
template <class T>
void write_traces(Call& c, const char* list_name, const std::vector<T>& v, bool paged) {
  auto& w = c.out();
  bool reverse = c.opt_bool("Reverse").value_or(false);
  Page pg{0, v.size()};
  if (paged) {
    // The cloud's model: CurrentPage, PageSize, Total (no TotalCount).
    const int64_t no = c.opt_int("CurrentPage", 1, 1, 1'000'000'000), size = c.opt_int("PageSize", 10, 1, 100);
    pg.begin = std::min(v.size(), static_cast<size_t>((no - 1) * size));
    pg.end = std::min(v.size(), pg.begin + static_cast<size_t>(size));
    w.field("CurrentPage", no);
    w.field("PageSize", size);
    w.field("Total", v.size());
  }
  w.key(list_name).begin_array();
  for (size_t k = pg.begin; k < pg.end; ++k) {
    const auto& t = reverse ? v[v.size() - 1 - k] : v[k];
    w.begin_object();
    w.field("Time", iso_time(t.time_ms / 1000));
    w.field("ClientId", t.client_id);
    w.field("Action", t.action);
    if constexpr (std::is_same_v<T, mq::DeviceTrace>) {
      w.field("ActionCode", t.action);
      w.field("ActionInfo", t.reason);
      w.field("ChannelId", t.channel_id);
      w.field("RemoteIp", t.remote_ip);
    } else {
      w.field("MsgId", t.msg_id);
      w.field("Topic", t.topic);
      w.field("ActionCode", t.action);
      w.field("ActionInfo", "qos=" + std::to_string(t.qos));
    }
    w.end_object();
  }
  w.end_array();
}
void QueryMqttTraceDevice(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), client = c.req("ClientId");
  authz(c, "QueryMqttTraceDevice", id);
  auto r = range(c);
  write_traces(c, "DeviceInfoList", unwrap(m.QueryMqttTraceDevice(c.account(), id, client, r.begin, r.end)), true);
}
void QueryMqttTraceMessageOfClient(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), client = c.req("ClientId");
  authz(c, "QueryMqttTraceMessageOfClient", id);
  auto r = range(c);
  write_traces(c, "MessageOfClientList",
               unwrap(m.QueryMqttTraceMessageOfClient(c.account(), id, client, r.begin, r.end)), true);
}
void QueryMqttTraceMessagePublish(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), msg = c.req("MsgId");
  authz(c, "QueryMqttTraceMessagePublish", id);
  auto r = range(c);
  write_traces(c, "MessageTraceLists", unwrap(m.QueryMqttTraceMessagePublish(c.account(), id, msg, r.begin, r.end)),
               false);
}
void QueryMqttTraceMessageSubscribe(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), msg = c.req("MsgId");
  authz(c, "QueryMqttTraceMessageSubscribe", id);
  auto r = range(c);
  write_traces(c, "MessageTraceLists",
               unwrap(m.QueryMqttTraceMessageSubscribe(c.account(), id, msg, c.opt("ClientId").value_or(""), r.begin,
                                                       r.end)),
               true);
}

}  // namespace

void add_trace_operations(Registry& r) {
  add(r, {
      {"QueryMqttTraceDevice", QueryMqttTraceDevice},
      {"QueryMqttTraceMessageOfClient", QueryMqttTraceMessageOfClient},
      {"QueryMqttTraceMessagePublish", QueryMqttTraceMessagePublish},
      {"QueryMqttTraceMessageSubscribe", QueryMqttTraceMessageSubscribe},
  });
}

}  // namespace sluice::api::onsmqtt
