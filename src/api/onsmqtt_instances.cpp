// OnsMqtt instances (the extensions CreateInstance / UpdateInstance /
// ReleaseInstance, and ListInstances), their tags, and the console's Overview
// figures (DescribeMqttMetaData, a Sluice extension).
#include "api/onsmqtt_internal.hpp"
#include "api/ops_util.hpp"
#include "mq/mq_service.hpp"
#include "mq/settings.hpp"

namespace sluice::api::onsmqtt {

namespace {

// The cloud's codes (ListInstances of OnsMqtt 2020-04-20): InstanceType 0 basic,
// 1 platinum, 4 professional, 5 serverless; InstanceStatus 5 "in service".
int64_t type_code(const std::string& edition) {
  if (edition == "basic") return 0;
  if (edition == "platinum") return 1;
  if (edition == "serverless") return 5;
  return 4;
}
// InstanceType as a word or as the cloud's code (0, 1, 4, 5).
std::optional<std::string> edition_param(Call& c) {
  auto t = c.opt("InstanceType");
  if (t && *t == "0") return "basic";
  if (t && *t == "1") return "platinum";
  if (t && *t == "4") return "professional";
  if (t && *t == "5") return "serverless";
  return t;
}
int64_t status_code(const std::string& status) { return status == "Running" ? 5 : 0; }
// Sluice instances do not expire: the end of year 9999 (the cloud gives a prepaid
// instance's expiry in epoch milliseconds).
constexpr int64_t kNeverExpires = 253402300799000;
constexpr const char* kKernelVersion = "sluice-1.0";

struct InstanceView {
  const mq::Instance& i;
  const std::string& rg;
  const RpcServices::Endpoints& ep;
  const std::string& region;
  const std::vector<mq::Tag>& tags;
  const mq::InstanceSettings& defaults;  // the edition's (EditionDefaults)
  const std::vector<std::string>& overrides;
};

void write_settings(JsonWriter& w, const mq::InstanceSettings& s) {
  w.begin_object();
  for (const auto& st : mq::instance_settings()) {
    if (st.number) w.field(st.name, static_cast<int64_t>(s.*(st.number)));
    else if (st.on_word) w.field(st.name, mq::setting_text(s, st));  // TlsAuthMode: its word
    else w.field(st.name, s.*(st.flag));
  }
  w.end_object();
}

// The cloud's ListInstances item, then Sluice's additions (Edition and Status as
// text, Remark, ResourceGroupId, UpdateTime, Endpoints, Settings).
void write_instance(JsonWriter& w, const InstanceView& v) {
  const auto& i = v.i;
  w.begin_object();
  w.field("InstanceId", i.id);
  w.field("InstanceName", i.name);
  w.field("InstanceType", type_code(i.type));
  w.field("InstanceStatus", status_code(i.status));
  w.field("Specific", "sluice." + i.type);
  w.field("RegionId", v.region);
  w.field("CreateTime", i.created_at * 1000);
  w.field("ExpireTime", kNeverExpires);
  w.field("KernelVersion", kKernelVersion);
  w.field("OrderId", "");
  w.key("MqttTags").begin_array();
  for (const auto& t : v.tags) w.begin_object().field("TagKey", t.key).field("TagValue", t.value).end_object();
  w.end_array();
  w.field("Edition", i.type);
  w.field("Status", i.status);
  w.field("Remark", i.remark);
  w.field("ResourceGroupId", v.rg);
  w.field("UpdateTime", i.updated_at * 1000);
  w.key("Endpoints").begin_object();
  if (!v.ep.tcp.empty()) w.field("Tcp", v.ep.tcp);
  if (!v.ep.tls.empty()) w.field("Tls", v.ep.tls);
  if (!v.ep.ws.empty()) w.field("Ws", v.ep.ws);
  if (!v.ep.wss.empty()) w.field("Wss", v.ep.wss);
  w.end_object();
  w.key("Settings");
  write_settings(w, i.settings);
  // The edition's defaults, and which settings are the instance's own (kept
  // when the edition changes; ResetSettings returns them to the defaults).
  w.key("EditionDefaults");
  write_settings(w, v.defaults);
  w.key("OverriddenSettings").begin_array();
  for (const auto& n : v.overrides) w.value(n);
  w.end_array();
  w.end_object();
}

std::vector<mq::Tag> tags_of(mq::MqService& m, Call& c, const std::string& id) {
  std::vector<mq::Tag> out;
  if (auto tr = m.ListTagResources(c.account(), "instance", {id}, {}))
    for (auto& t : *tr) out.push_back(std::move(t.tag));
  return out;
}

void write_one(Call& c, mq::MqService& m, const mq::Instance& i) {
  const auto tags = tags_of(m, c, i.id);
  const auto defaults = m.edition_defaults_of(i);
  const auto overrides = m.overrides_of(i);
  write_instance(c.out(), InstanceView{i, c.iam().resource_group_of(c.account(), "instance", i.id), c.svc().endpoints,
                                       m.options().region, tags, defaults, overrides});
}

// Every instance setting (src/mq/settings.cpp) is a parameter of the same
// name; the mq layer checks the values and records them as overrides of the
// edition's defaults.
mq::SettingValues settings_from(Call& c) {
  mq::SettingValues out;
  for (const auto& st : mq::instance_settings())
    if (auto v = c.opt(st.name)) out.emplace_back(st.name, std::move(*v));
  return out;
}

// ---- instances (extensions) ----
void CreateInstance(Call& c) {
  auto& m = mqs(c);
  c.authorize("mq:CreateInstance", c.arn("mq", "instance/*"));
  mq::InstanceSpec spec;
  spec.name = c.req("InstanceName");
  spec.type = edition_param(c).value_or("");
  spec.remark = c.opt("Remark").value_or("");
  spec.resource_group_id = c.opt("ResourceGroupId").value_or("");
  if (spec.resource_group_id == c.account()) spec.resource_group_id.clear();
  auto i = unwrap(m.CreateInstance(c.account(), spec, settings_from(c)));
  c.out().field("InstanceId", i.id);
  c.out().key("Instance");
  write_one(c, m, i);
}
void UpdateInstance(Call& c) {
  auto [m, id] = instance_op(c, "UpdateInstance");
  mq::InstanceChange ch;
  ch.name = c.opt("InstanceName");
  ch.remark = c.opt("Remark");
  ch.type = edition_param(c);  // a change of edition: new defaults, the overrides kept
  ch.sets = settings_from(c);
  // ResetSettings: comma-separated setting names (or "all") back to the edition's defaults.
  if (auto r = c.opt("ResetSettings")) {
    size_t start = 0;
    while (start <= r->size()) {
      const size_t comma = std::min(r->find(',', start), r->size());
      std::string name = r->substr(start, comma - start);
      if (!name.empty()) ch.resets.push_back(std::move(name));
      start = comma + 1;
    }
  }
  auto i = unwrap(m.UpdateInstance(c.account(), id, ch));
  c.out().key("Instance");
  write_one(c, m, i);
}
void ReleaseInstance(Call& c) {
  auto [m, id] = instance_op(c, "ReleaseInstance");
  unwrap(m.ReleaseInstance(c.account(), id));
}
// Tag.N.Key / Tag.N.Value, and for ListInstances also the cloud's JSON `Tags`.
std::vector<mq::TagFilter> tag_filters(Call& c, bool json_too = false) {
  std::vector<mq::TagFilter> out;
  for (auto& t : c.list_of_objects("Tag")) out.push_back({t["Key"], t["Value"]});
  if (json_too)
    for (auto& t : json_tags(c)) out.push_back({std::move(t.key), std::move(t.value)});
  return out;
}
void ListInstances(Call& c) {
  auto& m = mqs(c);
  // Listed only where both mq:ListMqttInstance and mq:MqttInstanceAccess are allowed (SPEC §4).
  c.mark_authorized();
  auto all = unwrap(m.ListInstances(c.account(), tag_filters(c, true)));
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
  for (size_t k = pg.begin; k < pg.end; ++k) {
    const auto tags = tags_of(m, c, visible[k].first.id);
    const auto defaults = m.edition_defaults_of(visible[k].first);
    const auto overrides = m.overrides_of(visible[k].first);
    write_instance(w, InstanceView{visible[k].first, visible[k].second, c.svc().endpoints, m.options().region, tags,
                                   defaults, overrides});
  }
  w.end_array();
  if (visible.empty() && !all.empty())
    ok_text(c, "No instance is visible: listing needs both mq:ListMqttInstance and mq:MqttInstanceAccess.");
  else
    ok_text(c);
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
// The cloud's TagResources / UntagResources model: Code "200", Data true, Message.
void tag_ok(Call& c) {
  c.out().field("Code", "200");
  c.out().field("Data", true);
  c.out().field("Message", "operation success.");
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
  tag_ok(c);
}
void UntagResources(Call& c) {
  auto& m = mqs(c);
  auto type = resource_type(c);
  auto ids = c.list("ResourceId");
  authz_each(c, "UntagResources", ids);
  unwrap(m.UntagResources(c.account(), type, ids, c.list("TagKey"), c.opt_bool("All").value_or(false)));
  tag_ok(c);
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
  ok_text(c);
}

// ---- Sluice extension: the console's Overview and live charts ----
// Sluice's extension in a cluster: the instance's figures on each node.
void write_nodes(JsonWriter& w, const std::vector<RpcServices::NodeCounters>& nodes) {
  w.key("Nodes").begin_array();
  for (const auto& n : nodes) {
    w.begin_object();
    w.field("Node", n.node);
    w.field("Status", n.alive ? "alive" : "dead");
    w.field("ThisNode", n.self);
    w.field("OnlineClientCount", n.online_clients);
    w.field("MessagesLastSecond", n.messages_last_second);
    w.end_object();
  }
  w.end_array();
}

void DescribeMqttMetaData(Call& c) {
  auto& m = mqs(c);
  c.authorize("mq:MqttMetaData", c.arn("mq", "*"));
  auto instances = unwrap(m.ListInstances(c.account()));
  uint64_t topics = 0, groups = 0, online = 0, subs = 0, in = 0, out = 0;
  std::vector<RpcServices::NamespaceCounters> per;
  std::vector<std::vector<RpcServices::NodeCounters>> nodes;  // per instance, in a cluster
  for (const auto& i : instances) {
    if (auto t = m.ListTopic(c.account(), i.id)) topics += t->size();
    if (auto g = m.ListGroupId(c.account(), i.id)) groups += g->size();
    RpcServices::NamespaceCounters k = c.svc().counters ? c.svc().counters(i.id) : RpcServices::NamespaceCounters{};
    if (c.svc().node_counters) {
      // The instance's clients on every live node (the others' as their last
      // beat said, a second old at most); the message counts stay this node's.
      nodes.push_back(c.svc().node_counters(i.id));
      for (const auto& n : nodes.back())
        if (n.alive && !n.self) k.online_clients += static_cast<uint64_t>(std::max<int64_t>(0, n.online_clients));
    }
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
    w.field("Denied", static_cast<int64_t>(per[n].denied));
    w.field("QueuedMessages", static_cast<int64_t>(per[n].queued));
    if (n < nodes.size()) write_nodes(w, nodes[n]);
    w.end_object();
  }
  w.end_array();
}

}  // namespace

void add_instance_operations(Registry& r) {
  add(r, {
      {"CreateInstance", CreateInstance},
      {"UpdateInstance", UpdateInstance},
      {"ReleaseInstance", ReleaseInstance},
      {"ListInstances", ListInstances},
      {"TagResources", TagResources},
      {"UntagResources", UntagResources},
      {"ListTagResources", ListTagResources},
      {"DescribeMqttMetaData", DescribeMqttMetaData},
  });
}

}  // namespace sluice::api::onsmqtt
