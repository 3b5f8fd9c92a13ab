// OnsMqtt 2020-04-20: the MQTT management operations over mq::MqService, plus
// the extensions CreateInstance / UpdateInstance / ReleaseInstance /
// CreateTopic / DeleteTopic / ListTopic. Every operation needs the account to
// have activated the service (OpenOnsService), its own mq:<Operation> action
// on the resource it touches, and mq:MqttInstanceAccess (or
// mq:OnsInstanceBaseInfo) on the instance.
//
// This file: the helpers every family shares (onsmqtt_internal.hpp) and the
// product's one entry point.
#include <boost/json.hpp>
#include <shared_mutex>
#include <unordered_set>

#include "api/onsmqtt_internal.hpp"
#include "mq/mq_service.hpp"

namespace sluice::api {

namespace onsmqtt {

namespace {

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

}  // namespace

mq::MqService& mqs(Call& c) {
  if (!activated(c))
    fail("Forbidden.ServiceNotActivated", 403,
         "ApsaraMQ for MQTT is not activated for account " + c.account() +
             ". Activate it (free) with OpenOnsService (Ons 2019-02-14) or in the console, then retry.");
  if (!c.svc().mq) fail("ServiceUnavailable", 503, "The MQTT service is not running on this server.");
  return *c.svc().mq;
}

std::string inst_arn(Call& c, const std::string& id) { return c.arn("mq", "instance/" + id); }

void authz(Call& c, const std::string& op, const std::string& inst, std::vector<std::string> resources) {
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

InstanceOp instance_op(Call& c, const char* op) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId");
  authz(c, op, id);
  return {m, std::move(id)};
}

std::vector<std::string> topic_arns(Call& c, const std::string& inst, const std::string& topic) {
  std::vector<std::string> v{c.arn("mq", "topic/" + inst + "/" + topic)};
  auto slash = topic.find('/');
  if (slash != std::string::npos) v.push_back(c.arn("mq", "topic/" + inst + "/" + topic.substr(0, slash)));
  return v;
}

void ok_numeric(Call& c, const char* message) {
  c.out().field("Code", static_cast<int64_t>(200));
  c.out().field("Success", true);
  c.out().field("Message", message);
}
void ok_text(Call& c, const char* message) {
  c.out().field("Code", "200");
  c.out().field("Success", "true");
  c.out().field("Message", message);
}

std::vector<mq::Tag> json_tags(Call& c, const char* name) {
  std::vector<mq::Tag> out;
  auto text = c.opt(name);
  if (!text || text->empty()) return out;
  const std::string bad = std::string("InvalidParameter.") + name;
  const std::string form = std::string(name) + R"( is a JSON array of tags, e.g. [{"key":"env","value":"prod"}].)";
  boost::json::error_code ec;
  auto v = boost::json::parse(*text, ec);
  if (ec || !v.is_array()) fail(bad, 400, form);
  if (v.as_array().size() > 20) fail(bad, 400, std::string(name) + " holds at most 20 tags.");
  auto str = [&](const boost::json::object& o, std::initializer_list<const char*> keys) -> std::string {
    for (const char* k : keys)
      if (const auto* p = o.if_contains(k)) {
        if (!p->is_string()) fail(bad, 400, form);
        return std::string(p->as_string());
      }
    return {};
  };
  for (const auto& e : v.as_array()) {
    if (!e.is_object()) fail(bad, 400, form);
    mq::Tag t{str(e.as_object(), {"key", "Key", "TagKey"}), str(e.as_object(), {"value", "Value", "TagValue"})};
    if (t.key.empty()) fail(bad, 400, "Every tag in " + std::string(name) + " needs a non-empty \"key\".");
    out.push_back(std::move(t));
  }
  return out;
}

void add(Registry& r, std::initializer_list<NamedOp> ops) {
  for (const auto& o : ops) r.add("OnsMqtt", kVersion, o.name, o.fn);
}

}  // namespace onsmqtt

void add_onsmqtt_operations(Registry& r) {
  onsmqtt::add_instance_operations(r);
  onsmqtt::add_topic_operations(r);
  onsmqtt::add_token_operations(r);
  onsmqtt::add_device_operations(r);
  onsmqtt::add_session_operations(r);
  onsmqtt::add_trace_operations(r);
  onsmqtt::add_custom_auth_operations(r);
  onsmqtt::add_certificate_operations(r);
  onsmqtt::add_rule_operations(r);
}

}  // namespace sluice::api
