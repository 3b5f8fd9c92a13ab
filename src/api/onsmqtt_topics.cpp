// OnsMqtt topics (the extensions CreateTopic / DeleteTopic / ListTopic), group
// ids, and messages sent to a topic by a server-side application (SendMessage).
#include "api/onsmqtt_internal.hpp"
#include "broker/message.hpp"
#include "mq/mq_service.hpp"
#include "mq/trace.hpp"

namespace sluice::api::onsmqtt {

namespace {

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
  const auto tags = json_tags(c);
  unwrap(m.CheckTags(tags));  // before creating: a bad tag leaves no untagged group behind
  unwrap(m.CreateGroupId(c.account(), id, g, c.opt("Remark").value_or("")));
  if (!tags.empty()) unwrap(m.SetGroupTags(c.account(), id, g, tags));
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
  const auto filter = json_tags(c);  // the cloud's Tags: groups carrying every one of them
  const auto tags = unwrap(m.GroupTags(c.account(), id));
  static const std::vector<mq::Tag> kNone;
  auto& w = c.out();
  w.key("Data").begin_array();
  for (const auto& g : gs) {
    auto it = tags.find(g.group_id);
    const auto& mine = it == tags.end() ? kNone : it->second;
    bool match = true;
    for (const auto& f : filter) {
      bool has = false;
      for (const auto& t : mine) has |= t.key == f.key && (f.value.empty() || t.value == f.value);
      match &= has;
    }
    if (!match) continue;
    w.begin_object();
    w.field("GroupId", g.group_id);
    w.field("InstanceId", g.instance_id);
    w.field("IndependentNaming", true);
    w.field("CreateTime", g.created_at * 1000);
    w.field("UpdateTime", g.created_at * 1000);
    w.key("Tags").begin_array();
    for (const auto& t : mine) w.begin_object().field("TagKey", t.key).field("TagValue", t.value).end_object();
    w.end_array();
    w.end_object();
  }
  w.end_array();
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

}  // namespace

void add_topic_operations(Registry& r) {
  add(r, {
      {"CreateTopic", CreateTopic},
      {"DeleteTopic", DeleteTopic},
      {"ListTopic", ListTopic},
      {"CreateGroupId", CreateGroupId},
      {"DeleteGroupId", DeleteGroupId},
      {"ListGroupId", ListGroupId},
      {"SendMessage", SendMessage},
  });
}

}  // namespace sluice::api::onsmqtt
