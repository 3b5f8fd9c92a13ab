// OnsMqtt data rules (issue 19, docs/rules.md): Sluice's own operations
// CreateRule, UpdateRule, GetRule, ListRules, DeleteRule, each authorized as
// mq:<Operation> on the instance and audited like every call.
#include <boost/json.hpp>

#include "api/onsmqtt_internal.hpp"
#include "mq/mq_service.hpp"
#include "mq/sealed_config.hpp"

namespace sluice::api::onsmqtt {

namespace {

mq::Rule spec(Call& c, const std::string& id) {
  mq::Rule r;
  r.instance_id = id;
  r.name = c.req("RuleName");
  r.type = c.req("RuleType");
  r.source_topic = c.opt("SourceTopic").value_or("");
  r.target_type = c.req("TargetType");
  r.target_config = c.req("TargetConfig");
  return r;
}

void write_rule(JsonWriter& w, const mq::Rule& r, const mq::RuleStatus& st) {
  w.field("InstanceId", r.instance_id);
  w.field("RuleName", r.name);
  w.field("RuleType", r.type);
  w.field("SourceTopic", r.source_topic);
  w.field("TargetType", r.target_type);
  w.field("TargetConfig", mq::shown_target_config(r.target_config));
  w.field("CreateTime", r.created_ms);
  w.field("UpdateTime", r.updated_ms);
  // Sluice's own: how the rule is doing since this node started (docs/rules.md).
  w.field("Running", st.running);
  w.field("Backlog", static_cast<int64_t>(st.backlog));
  w.field("Delivered", static_cast<int64_t>(st.delivered));
  w.field("Overflow", static_cast<int64_t>(st.overflow));
  w.field("Retries", static_cast<int64_t>(st.retries));
  w.field("DeadLettered", static_cast<int64_t>(st.dead_lettered));
  w.field("LastError", st.last_error);
}

// The answer of CreateRule, UpdateRule and GetRule: the rule and its status as `Data`.
void write_rule_data(Call& c, mq::MqService& m, const mq::Rule& r) {
  auto& w = c.out();
  w.key("Data").begin_object();
  write_rule(w, r, m.rule_status(r.instance_id, r.name));
  w.end_object();
}

void CreateRule(Call& c) {
  auto [m, id] = instance_op(c, "CreateRule");
  write_rule_data(c, m, unwrap(m.CreateRule(c.account(), spec(c, id))));
}
void UpdateRule(Call& c) {
  auto [m, id] = instance_op(c, "UpdateRule");
  write_rule_data(c, m, unwrap(m.UpdateRule(c.account(), spec(c, id))));
}
void GetRule(Call& c) {
  auto [m, id] = instance_op(c, "GetRule");
  write_rule_data(c, m, unwrap(m.GetRule(c.account(), id, c.req("RuleName"))));
}
void ListRules(Call& c) {
  auto [m, id] = instance_op(c, "ListRules");
  auto v = unwrap(m.ListRules(c.account(), id));
  auto& w = c.out();
  w.key("Data").begin_object();
  w.key("Rules").begin_array();
  for (const auto& r : v) {
    w.begin_object();
    write_rule(w, r, m.rule_status(r.instance_id, r.name));
    w.end_object();
  }
  w.end_array();
  w.end_object();
}
void DeleteRule(Call& c) {
  auto [m, id] = instance_op(c, "DeleteRule");
  auto name = c.req("RuleName");
  unwrap(m.DeleteRule(c.account(), id, name));
  c.out().field("RuleName", name);
}

}  // namespace

void add_rule_operations(Registry& r) {
  add(r, {
      {"CreateRule", CreateRule},
      {"UpdateRule", UpdateRule},
      {"GetRule", GetRule},
      {"ListRules", ListRules},
      {"DeleteRule", DeleteRule},
  });
}

}  // namespace sluice::api::onsmqtt
