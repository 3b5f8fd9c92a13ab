// OnsMqtt client sessions: online status (one client, or many at once) and
// closing a client's connection.
#include "api/onsmqtt_internal.hpp"
#include "mq/mq_service.hpp"

namespace sluice::api::onsmqtt {

namespace {

void QuerySessionByClientId(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), client = c.req("ClientId");
  authz(c, "QuerySessionByClientId", id);
  auto s = unwrap(m.QuerySessionByClientId(c.account(), id, client));
  auto& w = c.out();
  w.field("OnlineStatus", s.online);
  // Beyond the cloud's answer (Sluice extensions, for the console's device
  // status): where the client connected from, its clean-session flag, its
  // subscriptions and the messages waiting for it. Absent when there is no session.
  if (!s.known) return;
  w.field("RemoteIp", s.remote_address);
  w.field("CleanSession", s.clean_session);
  w.field("QueuedMessages", static_cast<int64_t>(s.queued));
  w.key("Subscriptions").begin_array();
  for (const auto& [filter, qos] : s.subscription_list) {
    w.begin_object();
    w.field("TopicFilter", filter);
    w.field("Qos", static_cast<int64_t>(qos));
    w.end_object();
  }
  w.end_array();
}
void BatchQuerySessionByClientIds(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId");
  auto ids = c.list("ClientIdList");
  if (ids.empty()) fail("MissingClientIdList", 400, "ClientIdList is mandatory for this action (ClientIdList.1, ...).");
  if (ids.size() > 100) fail("InvalidParameter.ClientIdList", 400, "At most 100 client ids per call.");
  authz(c, "BatchQuerySessionByClientIds", id);
  auto ss = unwrap(m.BatchQuerySessionByClientIds(c.account(), id, ids));
  auto& w = c.out();
  w.key("OnlineStatusList").begin_array();
  for (const auto& s : ss) {
    w.begin_object();
    w.field("ClientId", s.client_id);
    w.field("OnlineStatus", s.online);
    w.end_object();
  }
  w.end_array();
}
void CloseConnection(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), client = c.req("ClientId");
  authz(c, "CloseConnection", id);
  unwrap(m.CloseConnection(c.account(), id, client));
  ok_numeric(c);
}

}  // namespace

void add_session_operations(Registry& r) {
  add(r, {
      {"QuerySessionByClientId", QuerySessionByClientId},
      {"BatchQuerySessionByClientIds", BatchQuerySessionByClientIds},
      {"CloseConnection", CloseConnection},
  });
}

}  // namespace sluice::api::onsmqtt
