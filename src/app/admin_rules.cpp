#include "app/admin_rules.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

#include "mq/mq_service.hpp"
#include "mq/sealed_config.hpp"

namespace sluice::app {

namespace {
struct RuleArgs {
  std::string account, instance, name, type, source, target_type, target_config;
};

void print(const mq::Rule& r) {
  std::cout << r.name << "\t" << r.type << "\t" << (r.source_topic.empty() ? "-" : r.source_topic) << "\t"
            << r.target_type << "\t" << mq::shown_target_config(r.target_config) << "\n";
}
}  // namespace

void add_rule_commands(CLI::App& app, MqCommandHooks h) {
  auto a = std::make_shared<RuleArgs>();
  using Err = std::optional<iam::Error>;
  auto run = [h, a](AccountAction f) { return in_account(h.resolve_account, &a->account, h.rc, std::move(f)); };
  auto* rules = app.add_subcommand("rules", "Data rules of an instance: outflow, inflow, status (docs/rules.md)");
  rules->require_subcommand(1);
  rules->add_option("--account", a->account, "Account id or alias")->required();
  rules->add_option("--instance", a->instance, "Instance id")->required();
  auto spec_opts = [a](CLI::App* c) {
    c->add_option("--name", a->name, "RuleName")->required();
    c->add_option("--type", a->type, "RuleType: outflow | inflow | status")->required();
    c->add_option("--source", a->source, "SourceTopic (outflow: a filter; inflow: the topic published on)");
    c->add_option("--target-type", a->target_type, "TargetType: webhook | nats | postgres | mqtt")->required();
    c->add_option("--target-config", a->target_config, "TargetConfig, a JSON object, e.g. '{\"Url\":\"http://h/p\"}'")
        ->required();
  };
  auto spec = [a] {
    mq::Rule r;
    r.instance_id = a->instance;
    r.name = a->name;
    r.type = a->type;
    r.source_topic = a->source;
    r.target_type = a->target_type;
    r.target_config = a->target_config;
    return r;
  };
  auto* create = rules->add_subcommand("create", "Create a rule (CreateRule)");
  spec_opts(create);
  create->callback(run([h, spec](const std::string& acct) -> Err {
    auto r = h.mq().CreateRule(acct, spec());
    if (!r) return r.error();
    print(*r);
    return std::nullopt;
  }));
  auto* update = rules->add_subcommand("update", "Change a rule's source and target (UpdateRule)");
  spec_opts(update);
  update->callback(run([h, spec](const std::string& acct) -> Err {
    auto r = h.mq().UpdateRule(acct, spec());
    if (!r) return r.error();
    print(*r);
    return std::nullopt;
  }));
  rules->add_subcommand("list", "List rules: name, type, source, target type, target config")
      ->callback(run([h, a](const std::string& acct) -> Err {
        auto r = h.mq().ListRules(acct, a->instance);
        if (!r) return r.error();
        for (const auto& x : *r) print(x);
        return std::nullopt;
      }));
  auto* del = rules->add_subcommand("delete", "Delete a rule and drop its backlog (DeleteRule)");
  del->add_option("--name", a->name, "RuleName")->required();
  del->callback(run([h, a](const std::string& acct) -> Err {
    if (auto s = h.mq().DeleteRule(acct, a->instance, a->name); !s) return s.error();
    std::cout << "deleted " << a->name << "\n";
    return std::nullopt;
  }));
}

}  // namespace sluice::app
