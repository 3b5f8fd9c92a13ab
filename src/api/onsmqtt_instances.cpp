// OnsMqtt 2020-04-20: the MQTT management operations over mq::MqService, plus
// the extensions CreateInstance / UpdateInstance / ReleaseInstance /
// CreateTopic / DeleteTopic / ListTopic. Every operation needs the account to
// have activated the service (OpenOnsService), its own mq:<Operation> action
// on the resource it touches, and mq:MqttInstanceAccess (or
// mq:OnsInstanceBaseInfo) on the instance.
#include <shared_mutex>
#include <unordered_set>

#include "api/ops_util.hpp"
#include "api/rpc.hpp"
#include "broker/message.hpp"
#include "mq/mq_service.hpp"
#include "mq/trace.hpp"
#include "mq/settings.hpp"

namespace sluice::api {

namespace {

constexpr const char* kV = "2020-04-20";

// Activation is never undone, so a positive answer is cached.
bool activated(Call& c) {
  static std::shared_mutex mu;
  static std::unordered_set<std::string> yes;
  {
    std::shared_lock lk(mu);
    if (yes.count(c.account())) return true;
  }
  auto r = c.iam().service_active(c.account(), "mq");
  if (!r || !*r) return false;
  std::unique_lock lk(mu);
  yes.insert(c.account());
  return true;
}

mq::MqService& mqs(Call& c) {
  if (!activated(c))
    fail("Forbidden.ServiceNotActivated", 403,
         "ApsaraMQ for MQTT is not activated for account " + c.account() +
             ". Activate it (free) with OpenOnsService (Ons 2019-02-14) or in the console, then retry.");
  if (!c.svc().mq) fail("ServiceUnavailable", 503, "The MQTT service is not running on this server.");
  return *c.svc().mq;
}

std::string inst_arn(Call& c, const std::string& id) { return c.arn("mq", "instance/" + id); }

// mq:MqttInstanceAccess (or mq:OnsInstanceBaseInfo) on the instance, then
// mq:<op> on `resources` (default: the instance).
void authz(Call& c, const std::string& op, const std::string& inst, std::vector<std::string> resources = {}) {
  std::string ia = inst_arn(c, inst);
  auto& a = *c.svc().authz;
  auto v = a.decide_on(c.principal(), "mq:MqttInstanceAccess", std::span<const std::string>(&ia, 1), "instance", inst);
  if (!v.allowed()) {
    auto v2 = a.decide_on(c.principal(), "mq:OnsInstanceBaseInfo", std::span<const std::string>(&ia, 1), "instance", inst);
    if (!v2.allowed()) c.authorize_on("mq:MqttInstanceAccess", std::span<const std::string>(&ia, 1), "instance", inst);
  }
  if (resources.empty()) resources.push_back(ia);
  c.authorize_on("mq:" + op, resources, "instance", inst);
}

// The prologue of most instance operations: the service is active, InstanceId is
// given, and the caller may perform `op` on that instance.
struct InstanceOp {
  mq::MqService& m;
  std::string id;
};
InstanceOp instance_op(Call& c, const char* op) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId");
  authz(c, op, id);
  return {m, std::move(id)};
}

// A topic is authorized on itself and on its parent (SPEC §4).
std::vector<std::string> topic_arns(Call& c, const std::string& inst, const std::string& topic) {
  std::vector<std::string> v{c.arn("mq", "topic/" + inst + "/" + topic)};
  auto slash = topic.find('/');
  if (slash != std::string::npos) v.push_back(c.arn("mq", "topic/" + inst + "/" + topic.substr(0, slash)));
  return v;
}

void write_instance(JsonWriter& w, const mq::Instance& i, const std::string& rg, const RpcServices::Endpoints& ep) {
  w.begin_object();
  w.field("InstanceId", i.id);
  w.field("InstanceName", i.name);
  w.field("InstanceType", i.type);
  w.field("InstanceStatus", i.status);
  w.field("Remark", i.remark);
  w.field("ResourceGroupId", rg);
  w.field("CreateTime", i.created_at * 1000);
  w.field("UpdateTime", i.updated_at * 1000);
  w.key("Endpoints").begin_object();
  if (!ep.tcp.empty()) w.field("Tcp", ep.tcp);
  if (!ep.tls.empty()) w.field("Tls", ep.tls);
  if (!ep.ws.empty()) w.field("Ws", ep.ws);
  if (!ep.wss.empty()) w.field("Wss", ep.wss);
  w.end_object();
  w.key("Settings").begin_object();
  for (const auto& st : mq::instance_settings()) {
    if (st.number) w.field(st.name, static_cast<int64_t>(i.settings.*(st.number)));
    else w.field(st.name, i.settings.*(st.flag));
  }
  w.end_object();
  w.end_object();
}

// Every instance setting (src/mq/settings.cpp) is a parameter of the same name.
std::optional<mq::InstanceSettings> settings_from(Call& c, std::optional<mq::InstanceSettings> base) {
  bool any = false;
  mq::InstanceSettings s = base.value_or(mq::InstanceSettings{});
  for (const auto& st : mq::instance_settings()) {
    auto v = c.opt(st.name);
    if (!v) continue;
    if (auto err = mq::set_setting(s, st.name, *v)) fail(std::string("InvalidParameter.") + st.name, 400, *err);
    any = true;
  }
  if (!any) return std::nullopt;
  return s;
}

// ---- instances (extensions) ----
void CreateInstance(Call& c) {
  auto& m = mqs(c);
  c.authorize("mq:CreateInstance", c.arn("mq", "instance/*"));
  mq::InstanceSpec spec;
  spec.name = c.req("InstanceName");
  spec.type = c.opt("InstanceType").value_or("");
  spec.remark = c.opt("Remark").value_or("");
  spec.resource_group_id = c.opt("ResourceGroupId").value_or("");
  if (spec.resource_group_id == c.account()) spec.resource_group_id.clear();
  spec.settings = settings_from(c, std::nullopt);
  auto i = unwrap(m.CreateInstance(c.account(), spec));
  c.out().field("InstanceId", i.id);
  c.out().key("Instance");
  write_instance(c.out(), i, c.iam().resource_group_of(c.account(), "instance", i.id), c.svc().endpoints);
}
void UpdateInstance(Call& c) {
  auto [m, id] = instance_op(c, "UpdateInstance");
  auto cur = unwrap(m.GetInstance(c.account(), id));
  auto i = unwrap(m.UpdateInstance(c.account(), id, c.opt("InstanceName"), c.opt("Remark"), settings_from(c, cur.settings)));
  c.out().key("Instance");
  write_instance(c.out(), i, c.iam().resource_group_of(c.account(), "instance", i.id), c.svc().endpoints);
}
void ReleaseInstance(Call& c) {
  auto [m, id] = instance_op(c, "ReleaseInstance");
  unwrap(m.ReleaseInstance(c.account(), id));
}
std::vector<mq::TagFilter> tag_filters(Call& c) {
  std::vector<mq::TagFilter> out;
  for (auto& t : c.list_of_objects("Tag")) out.push_back({t["Key"], t["Value"]});
  return out;
}
void ListInstances(Call& c) {
  auto& m = mqs(c);
  // Listed only where both mq:ListMqttInstance and mq:MqttInstanceAccess are allowed (SPEC §4).
  c.mark_authorized();
  auto all = unwrap(m.ListInstances(c.account(), tag_filters(c)));
  auto rg_filter = c.opt("ResourceGroupId");
  std::vector<std::pair<mq::Instance, std::string>> visible;
  for (auto& i : all) {
    std::string ia = inst_arn(c, i.id);
    std::span<const std::string> r(&ia, 1);
    if (!c.svc().authz->decide_on(c.principal(), "mq:ListMqttInstance", r, "instance", i.id).allowed()) continue;
    if (!c.svc().authz->decide_on(c.principal(), "mq:MqttInstanceAccess", r, "instance", i.id).allowed()) continue;
    std::string rg = c.iam().resource_group_of(c.account(), "instance", i.id);
    if (rg_filter && !rg_filter->empty() && rg != *rg_filter) continue;
    visible.emplace_back(std::move(i), std::move(rg));
  }
  auto& w = c.out();
  auto pg = number_page(c, visible.size(), w, 100, 100, "PageNo", "PageSize");
  w.key("Instances").begin_array();
  for (size_t k = pg.begin; k < pg.end; ++k) write_instance(w, visible[k].first, visible[k].second, c.svc().endpoints);
  w.end_array();
  if (visible.empty() && !all.empty())
    w.field("Message", "No instance is visible: listing needs both mq:ListMqttInstance and mq:MqttInstanceAccess.");
}

// ---- topics (extensions) ----
void CreateTopic(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), topic = c.req("Topic");
  authz(c, "CreateTopic", id, topic_arns(c, id, topic));
  auto t = unwrap(m.CreateTopic(c.account(), id, topic, c.opt("Remark").value_or("")));
  c.out().field("Topic", t.topic);
}
void DeleteTopic(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), topic = c.req("Topic");
  authz(c, "DeleteTopic", id, topic_arns(c, id, topic));
  unwrap(m.DeleteTopic(c.account(), id, topic));
}
void ListTopic(Call& c) {
  auto [m, id] = instance_op(c, "ListTopic");
  auto ts = unwrap(m.ListTopic(c.account(), id));
  auto& w = c.out();
  w.key("Data").begin_array();
  for (const auto& t : ts) {
    w.begin_object();
    w.field("Topic", t.topic);
    w.field("InstanceId", t.instance_id);
    w.field("Remark", t.remark);
    w.field("CreateTime", t.created_at * 1000);
    w.end_object();
  }
  w.end_array();
}

// ---- group ids ----
std::string group_arn(Call& c, const std::string& inst, const std::string& g) {
  return c.arn("mq", "groupId/" + inst + "/" + g);
}
void CreateGroupId(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), g = c.req("GroupId");
  authz(c, "CreateGroupId", id, {group_arn(c, id, g)});
  unwrap(m.CreateGroupId(c.account(), id, g, c.opt("Remark").value_or("")));
}
void DeleteGroupId(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), g = c.req("GroupId");
  authz(c, "DeleteGroupId", id, {group_arn(c, id, g)});
  unwrap(m.DeleteGroupId(c.account(), id, g));
}
void ListGroupId(Call& c) {
  auto [m, id] = instance_op(c, "ListGroupId");
  auto gs = unwrap(m.ListGroupId(c.account(), id));
  auto& w = c.out();
  w.key("Data").begin_array();
  for (const auto& g : gs) {
    w.begin_object();
    w.field("GroupId", g.group_id);
    w.field("InstanceId", g.instance_id);
    w.field("IndependentNaming", true);
    w.field("CreateTime", g.created_at * 1000);
    w.field("UpdateTime", g.created_at * 1000);
    w.end_object();
  }
  w.end_array();
}

// ---- tags ----
std::string resource_type(Call& c) {
  auto t = c.req("ResourceType");
  if (t != "INSTANCE" && t != "instance")
    fail("InvalidParameter.ResourceType", 400, "ResourceType must be INSTANCE, got \"" + t + "\".");
  return "instance";
}
void authz_each(Call& c, const char* op, const std::vector<std::string>& ids) {
  if (ids.empty()) fail("MissingResourceId", 400, "ResourceId is mandatory for this action (ResourceId.1, ...).");
  for (const auto& id : ids) authz(c, op, id);
}
void TagResources(Call& c) {
  auto& m = mqs(c);
  auto type = resource_type(c);
  auto ids = c.list("ResourceId");
  authz_each(c, "TagResources", ids);
  std::vector<mq::Tag> tags;
  for (auto& t : c.list_of_objects("Tag")) tags.push_back({t["Key"], t["Value"]});
  if (tags.empty()) fail("MissingTag", 400, "Tag is mandatory for this action (Tag.1.Key, Tag.1.Value).");
  unwrap(m.TagResources(c.account(), type, ids, tags));
}
void UntagResources(Call& c) {
  auto& m = mqs(c);
  auto type = resource_type(c);
  auto ids = c.list("ResourceId");
  authz_each(c, "UntagResources", ids);
  unwrap(m.UntagResources(c.account(), type, ids, c.list("TagKey"), c.opt_bool("All").value_or(false)));
}
void ListTagResources(Call& c) {
  auto& m = mqs(c);
  auto type = resource_type(c);
  auto ids = c.list("ResourceId");
  if (ids.empty())
    c.authorize("mq:ListTagResources", c.arn("mq", "instance/*"));
  else
    authz_each(c, "ListTagResources", ids);
  auto trs = unwrap(m.ListTagResources(c.account(), type, ids, tag_filters(c)));
  auto& w = c.out();
  w.key("TagResources").begin_array();
  for (const auto& t : trs) {
    w.begin_object();
    w.field("ResourceType", "INSTANCE");
    w.field("ResourceId", t.resource_id);
    w.field("TagKey", t.tag.key);
    w.field("TagValue", t.tag.value);
    w.end_object();
  }
  w.end_array();
  w.field("NextToken", "");
}

// ---- tokens ----
void ApplyToken(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId");
  auto res = c.req("Resources");
  auto actions = c.req("Actions");
  int64_t expire = c.opt_int("ExpireTime", 0, 1, INT64_MAX);
  if (!c.opt("ExpireTime")) fail("MissingExpireTime", 400, "ExpireTime is mandatory for this action (epoch ms).");
  std::vector<std::string> topics, arns;
  size_t pos = 0;
  while (pos <= res.size()) {
    size_t comma = res.find(',', pos);
    if (comma == std::string::npos) comma = res.size();
    std::string t = res.substr(pos, comma - pos);
    if (!t.empty()) {
      topics.push_back(t);
      for (auto& a : topic_arns(c, id, t)) arns.push_back(std::move(a));
    }
    pos = comma + 1;
  }
  authz(c, "ApplyToken", id, arns.empty() ? std::vector<std::string>{inst_arn(c, id)} : arns);
  c.out().field("Token", unwrap(m.ApplyToken(c.account(), id, topics, actions, expire)));
}
void QueryToken(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), token = c.req("Token");
  authz(c, "QueryToken", id);
  auto q = unwrap(m.QueryToken(c.account(), id, token));
  c.out().field("TokenStatus", q.valid);
}
void RevokeToken(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), token = c.req("Token");
  authz(c, "RevokeToken", id);
  unwrap(m.RevokeToken(c.account(), id, token));
}

// ---- device credentials ----
void write_cred(JsonWriter& w, const mq::DeviceCredential& d) {
  w.key("DeviceCredential").begin_object();
  w.field("ClientId", d.client_id);
  w.field("InstanceId", d.instance_id);
  w.field("DeviceAccessKeyId", d.device_access_key_id);
  w.field("DeviceAccessKeySecret", d.device_access_key_secret);
  w.field("CreateTime", d.create_time_ms);
  w.field("UpdateTime", d.update_time_ms);
  w.end_object();
}
template <class F>
void cred_op(Call& c, const char* op, F f) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), client = c.req("ClientId");
  authz(c, op, id);
  f(m, id, client);
}
void RegisterDeviceCredential(Call& c) {
  cred_op(c, "RegisterDeviceCredential", [&](mq::MqService& m, const std::string& id, const std::string& cl) {
    write_cred(c.out(), unwrap(m.RegisterDeviceCredential(c.account(), id, cl)));
  });
}
// The answer carries DeviceAccessKeySecret, which connects as that device and
// reaches every topic of the instance. So the secret goes only to a principal
// allowed to mint one — mq:RegisterDeviceCredential on the instance, besides
// mq:GetDeviceCredential — never through a read-only grant (mq:Get*). Anyone
// else is refused with NoPermission naming that action (not answered without
// the field: SDK code reading the secret fails loudly instead of using "").
void GetDeviceCredential(Call& c) {
  cred_op(c, "GetDeviceCredential", [&](mq::MqService& m, const std::string& id, const std::string& cl) {
    const std::string ia = inst_arn(c, id);
    try {
      c.authorize_on("mq:RegisterDeviceCredential", std::span<const std::string>(&ia, 1), "instance", id);
    } catch (ApiError& e) {
      e.message += " GetDeviceCredential returns the device's secret, so it needs the right to register one too.";
      throw;
    }
    write_cred(c.out(), unwrap(m.GetDeviceCredential(c.account(), id, cl)));
  });
}
void RefreshDeviceCredential(Call& c) {
  cred_op(c, "RefreshDeviceCredential", [&](mq::MqService& m, const std::string& id, const std::string& cl) {
    write_cred(c.out(), unwrap(m.RefreshDeviceCredential(c.account(), id, cl)));
  });
}
void UnRegisterDeviceCredential(Call& c) {
  cred_op(c, "UnRegisterDeviceCredential", [&](mq::MqService& m, const std::string& id, const std::string& cl) {
    unwrap(m.UnRegisterDeviceCredential(c.account(), id, cl));
  });
}
void ListDeviceCredentialClientId(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId");
  auto group = c.req("GroupId");
  authz(c, "ListDeviceCredentialClientId", id);
  auto ids = unwrap(m.ListDeviceCredentialClientId(c.account(), id, group));
  auto& w = c.out();
  w.key("DeviceCredentialClientIdList").begin_object();
  auto pg = number_page(c, ids.size(), w, 50, 100, "PageNo", "PageSize");
  w.key("ClientIdList").begin_array();
  for (size_t i = pg.begin; i < pg.end; ++i) w.value(ids[i]);
  w.end_array();
  w.field("NextToken", pg.end < ids.size() ? std::to_string(pg.end) : std::string());
  w.end_object();
}

// ---- sessions ----
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
  c.out().field("Success", true);
}

// ---- traces ----
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
  if (paged) pg = number_page(c, v.size(), w, 10, 100, "CurrentPage", "PageSize");
  w.field("Total", v.size());
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

// ---- custom authentication ----
void ok(Call& c) { c.out().field("Success", true); }
void AddCustomAuthIdentity(Call& c) {
  auto [m, id] = instance_op(c, "AddCustomAuthIdentity");
  unwrap(m.AddCustomAuthIdentity(c.account(), id, c.req("Username"), c.req("IdentityType"),
                                 c.opt("ClientId").value_or(""), c.req("Secret"), c.req("SignMode")));
  ok(c);
}
void UpdateCustomAuthIdentity(Call& c) {
  auto [m, id] = instance_op(c, "UpdateCustomAuthIdentity");
  unwrap(m.UpdateCustomAuthIdentity(c.account(), id, c.req("Username"), c.req("IdentityType"),
                                    c.opt("ClientId").value_or(""), c.req("Secret"), c.req("SignMode")));
  ok(c);
}
void DeleteCustomAuthIdentity(Call& c) {
  auto [m, id] = instance_op(c, "DeleteCustomAuthIdentity");
  unwrap(m.DeleteCustomAuthIdentity(c.account(), id, c.req("Username"), c.req("IdentityType"),
                                    c.opt("ClientId").value_or("")));
  ok(c);
}
template <class T, class W>
void results(Call& c, const std::vector<T>& v, W write_one) {
  auto& w = c.out();
  size_t begin = 0;
  if (auto t = c.opt("NextToken"); t && !t->empty()) begin = std::min(v.size(), static_cast<size_t>(std::strtoull(t->c_str(), nullptr, 10)));
  size_t size = static_cast<size_t>(c.opt_int("Size", 100, 1, 100));
  size_t end = std::min(v.size(), begin + size);
  w.key("Data").begin_object();
  w.key("Results").begin_array();
  for (size_t i = begin; i < end; ++i) {
    w.begin_object();
    write_one(w, v[i]);
    w.end_object();
  }
  w.end_array();
  w.field("NextToken", end < v.size() ? std::to_string(end) : std::string());
  w.end_object();
  ok(c);
}
void QueryCustomAuthIdentity(Call& c) {
  auto [m, id] = instance_op(c, "QueryCustomAuthIdentity");
  auto v = unwrap(m.QueryCustomAuthIdentity(c.account(), id, c.opt("Username").value_or(""),
                                            c.opt("IdentityType").value_or(""), c.opt("ClientId").value_or("")));
  results(c, v, [](JsonWriter& w, const mq::CustomIdentity& i) {
    w.field("InstanceId", i.instance_id);
    w.field("Username", i.username);
    w.field("IdentityType", mq::to_string(i.type));
    w.field("ClientId", i.client_id);
    w.field("SignMode", mq::to_string(i.sign_mode));
  });
}
void AddCustomAuthPermission(Call& c) {
  auto [m, id] = instance_op(c, "AddCustomAuthPermission");
  unwrap(m.AddCustomAuthPermission(c.account(), id, c.req("Identity"), c.req("IdentityType"), c.req("Topic"),
                                   c.req("PermitAction"), c.req("Effect")));
  ok(c);
}
void UpdateCustomAuthPermission(Call& c) {
  auto [m, id] = instance_op(c, "UpdateCustomAuthPermission");
  unwrap(m.UpdateCustomAuthPermission(c.account(), id, c.req("Identity"), c.req("IdentityType"), c.req("Topic"),
                                      c.req("PermitAction"), c.req("Effect")));
  ok(c);
}
void DeleteCustomAuthPermission(Call& c) {
  auto [m, id] = instance_op(c, "DeleteCustomAuthPermission");
  unwrap(m.DeleteCustomAuthPermission(c.account(), id, c.req("Identity"), c.req("IdentityType"), c.req("Topic")));
  ok(c);
}
void QueryCustomAuthPermission(Call& c) {
  auto [m, id] = instance_op(c, "QueryCustomAuthPermission");
  auto v = unwrap(m.QueryCustomAuthPermission(c.account(), id, c.opt("Identity").value_or(""),
                                              c.opt("IdentityType").value_or(""), c.opt("Topic").value_or("")));
  results(c, v, [](JsonWriter& w, const mq::CustomPermission& p) {
    w.field("InstanceId", p.instance_id);
    w.field("Identity", p.identity);
    w.field("IdentityType", mq::to_string(p.identity_type));
    w.field("Topic", p.topic);
    w.field("PermitAction", mq::to_string(p.action));
    w.field("Effect", mq::to_string(p.effect));
  });
}
void AddCustomAuthConnectBlack(Call& c) {
  auto [m, id] = instance_op(c, "AddCustomAuthConnectBlack");
  unwrap(m.AddCustomAuthConnectBlack(c.account(), id, c.req("ClientId")));
  ok(c);
}
void DeleteCustomAuthConnectBlack(Call& c) {
  auto [m, id] = instance_op(c, "DeleteCustomAuthConnectBlack");
  unwrap(m.DeleteCustomAuthConnectBlack(c.account(), id, c.req("ClientId")));
  ok(c);
}
void QueryCustomAuthConnectBlack(Call& c) {
  auto [m, id] = instance_op(c, "QueryCustomAuthConnectBlack");
  auto v = unwrap(m.QueryCustomAuthConnectBlack(c.account(), id, c.opt("ClientId").value_or("")));
  std::string inst = id;
  results(c, v, [&](JsonWriter& w, const std::string& cl) {
    w.field("InstanceId", inst);
    w.field("ClientId", cl);
    w.field("PermitAction", "CONNECT");
    w.field("Effect", "DENY");
  });
}

// ---- messages from a server-side application (the cloud's SendMessage) ----
void SendMessage(Call& c) {
  auto& m = mqs(c);
  const std::string id = c.req("InstanceId");
  const std::string topic = c.req("MqttTopic");
  const std::string payload = c.req("Payload");
  // From the console it is the console's "send test message" (SPEC §4:
  // mq:SendMqttMessageByConsole); from a signed request, a server-side publish,
  // authorized as a publish of that topic would be. Both on the topic and its parent.
  authz(c, c.from_console() ? "SendMqttMessageByConsole" : "PUB", id, topic_arns(c, id, topic));
  auto inst = unwrap(m.GetInstance(c.account(), id));
  if (topic.find_first_of("+#") != std::string::npos || topic.find('\0') != std::string::npos || topic[0] == '$')
    fail("InvalidParameter.MqttTopic", 400,
         "MqttTopic \"" + topic.substr(0, 128) + "\" is not a topic to publish to: no wildcards (+ #), no $ prefix.");
  if (topic.size() > inst.settings.max_topic_length)
    fail("InvalidParameter.MqttTopic", 400,
         "MqttTopic is " + std::to_string(topic.size()) + " bytes; the instance allows " +
             std::to_string(inst.settings.max_topic_length) + ".");
  if (payload.size() > inst.settings.max_payload)
    fail("InvalidParameter.Payload", 400,
         "Payload is " + std::to_string(payload.size()) + " bytes; the instance allows " +
             std::to_string(inst.settings.max_payload) + ".");
  if (inst.settings.strict_topic) {
    const std::string parent = topic.substr(0, topic.find('/'));
    bool found = false;
    for (const auto& t : unwrap(m.ListTopic(c.account(), id))) found |= t.topic == parent;
    if (!found)
      fail("InvalidParameter.MqttTopic", 400,
           "The parent topic \"" + parent + "\" does not exist in instance " + id + "; create it with CreateTopic first.");
  }
  if (!c.svc().publish) fail("ServiceUnavailable", 503, "The MQTT broker is not running on this server.");
  auto msg = std::make_shared<broker::Message>();
  msg->topic = topic;
  msg->payload = payload;
  msg->qos = 1;
  const std::string msg_id = mq::trace_msg_id(*msg);
  if (!c.svc().publish(id, std::move(msg), "SendMessage"))
    fail("InstanceNotFound", 404, "The instance " + id + " is not running on this server.");
  c.out().field("MsgId", msg_id);
}

// ---- Sluice extension: the console's Overview and live charts ----
void DescribeMqttMetaData(Call& c) {
  auto& m = mqs(c);
  c.authorize("mq:MqttMetaData", c.arn("mq", "*"));
  auto instances = unwrap(m.ListInstances(c.account()));
  uint64_t topics = 0, groups = 0, online = 0, subs = 0, in = 0, out = 0;
  std::vector<RpcServices::NamespaceCounters> per;
  for (const auto& i : instances) {
    if (auto t = m.ListTopic(c.account(), i.id)) topics += t->size();
    if (auto g = m.ListGroupId(c.account(), i.id)) groups += g->size();
    RpcServices::NamespaceCounters k = c.svc().counters ? c.svc().counters(i.id) : RpcServices::NamespaceCounters{};
    online += k.online_clients;
    subs += k.subscriptions;
    in += k.messages_in;
    out += k.messages_out;
    per.push_back(k);
  }
  auto& w = c.out();
  w.field("Timestamp", static_cast<int64_t>(m.now_ms()));
  w.field("InstanceCount", instances.size());
  w.field("TopicCount", static_cast<int64_t>(topics));
  w.field("GroupCount", static_cast<int64_t>(groups));
  w.field("OnlineClientCount", static_cast<int64_t>(online));
  w.field("SubscriptionCount", static_cast<int64_t>(subs));
  w.field("MessagesIn", static_cast<int64_t>(in));
  w.field("MessagesOut", static_cast<int64_t>(out));
  w.key("Instances").begin_array();
  for (size_t n = 0; n < instances.size(); ++n) {
    w.begin_object();
    w.field("InstanceId", instances[n].id);
    w.field("InstanceName", instances[n].name);
    w.field("OnlineClientCount", static_cast<int64_t>(per[n].online_clients));
    w.field("SubscriptionCount", static_cast<int64_t>(per[n].subscriptions));
    w.field("MessagesIn", static_cast<int64_t>(per[n].messages_in));
    w.field("MessagesOut", static_cast<int64_t>(per[n].messages_out));
    w.end_object();
  }
  w.end_array();
}

}  // namespace

void add_onsmqtt_operations(Registry& r) {
  struct {
    const char* name;
    OpFn fn;
  } ops[] = {
      {"CreateInstance", CreateInstance},
      {"UpdateInstance", UpdateInstance},
      {"ReleaseInstance", ReleaseInstance},
      {"ListInstances", ListInstances},
      {"CreateTopic", CreateTopic},
      {"DeleteTopic", DeleteTopic},
      {"ListTopic", ListTopic},
      {"CreateGroupId", CreateGroupId},
      {"DeleteGroupId", DeleteGroupId},
      {"ListGroupId", ListGroupId},
      {"TagResources", TagResources},
      {"UntagResources", UntagResources},
      {"ListTagResources", ListTagResources},
      {"ApplyToken", ApplyToken},
      {"QueryToken", QueryToken},
      {"RevokeToken", RevokeToken},
      {"RegisterDeviceCredential", RegisterDeviceCredential},
      {"GetDeviceCredential", GetDeviceCredential},
      {"RefreshDeviceCredential", RefreshDeviceCredential},
      {"UnRegisterDeviceCredential", UnRegisterDeviceCredential},
      {"ListDeviceCredentialClientId", ListDeviceCredentialClientId},
      {"QuerySessionByClientId", QuerySessionByClientId},
      {"BatchQuerySessionByClientIds", BatchQuerySessionByClientIds},
      {"CloseConnection", CloseConnection},
      {"QueryMqttTraceDevice", QueryMqttTraceDevice},
      {"QueryMqttTraceMessageOfClient", QueryMqttTraceMessageOfClient},
      {"QueryMqttTraceMessagePublish", QueryMqttTraceMessagePublish},
      {"QueryMqttTraceMessageSubscribe", QueryMqttTraceMessageSubscribe},
      {"AddCustomAuthIdentity", AddCustomAuthIdentity},
      {"UpdateCustomAuthIdentity", UpdateCustomAuthIdentity},
      {"DeleteCustomAuthIdentity", DeleteCustomAuthIdentity},
      {"QueryCustomAuthIdentity", QueryCustomAuthIdentity},
      {"AddCustomAuthPermission", AddCustomAuthPermission},
      {"UpdateCustomAuthPermission", UpdateCustomAuthPermission},
      {"DeleteCustomAuthPermission", DeleteCustomAuthPermission},
      {"QueryCustomAuthPermission", QueryCustomAuthPermission},
      {"AddCustomAuthConnectBlack", AddCustomAuthConnectBlack},
      {"DeleteCustomAuthConnectBlack", DeleteCustomAuthConnectBlack},
      {"QueryCustomAuthConnectBlack", QueryCustomAuthConnectBlack},
      {"SendMessage", SendMessage},
      {"DescribeMqttMetaData", DescribeMqttMetaData},
  };
  for (const auto& o : ops) r.add("OnsMqtt", kV, o.name, o.fn);
}

}  // namespace sluice::api
