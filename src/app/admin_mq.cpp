#include "app/admin_mq.hpp"

#include "app/admin_certs.hpp"
#include "app/admin_rules.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "iam/iam_service.hpp"
#include "mq/mq_service.hpp"
#include "mq/settings.hpp"
#include "mq/signature.hpp"
#include "store/store.hpp"

namespace sluice::app {

namespace {

struct MqArgs {
  std::string account, instance, name, remark, region = "local", topic, group, actions = "R,W", token, client_id,
      username, type = "USER", secret, sign_mode = "ORIGIN", identity, action = "PUB_SUB", effect = "ALLOW";
  std::vector<std::string> resources, sets, resets;
  std::string edition;  // instance create / update --edition (basic, professional, platinum, serverless)
  int64_t ttl = 3600;
  bool lax_client_id = false, lax_topic = false, drop_denied = false, message_trace = false;
  int64_t notice = 0;
};

}  // namespace

void add_mq_commands(CLI::App& app, AdminMqHooks h) {
  auto a = std::make_shared<MqArgs>();
  // The service is built on first use (after the store is open).
  auto svc = std::make_shared<std::unique_ptr<mq::MqService>>();
  auto mq = [h, a, svc]() -> mq::MqService& {
    if (!*svc) {
      mq::MqOptions o;
      o.region = a->region;
      // Tests shorten the ApplyToken window the same way as for the server ([mq] token_min_ttl_s).
      if (const char* v = std::getenv("SLUICE_MQ_TOKEN_MIN_TTL_S"); v && *v) o.token_min_ttl_ms = std::atoll(v) * 1000;
      *svc = std::make_unique<mq::MqService>(h.store(), h.iam(), o);
    }
    return **svc;
  };
  // Runs f(account id) with the account resolved; sets the exit code on error.
  auto with_account = [h, a](AccountAction f) { return in_account(h.resolve_account, &a->account, h.rc, std::move(f)); };
  using Err = std::optional<iam::Error>;
  auto need_account = [a](CLI::App* c) { c->add_option("--account", a->account, "Account id or alias")->required(); };
  auto need_instance = [a, need_account](CLI::App* c) {
    need_account(c);
    c->add_option("--instance", a->instance, "Instance id (mqtt-<region>-...)")->required();
  };

  // instance
  auto* ins = app.add_subcommand("instance", "ApsaraMQ for MQTT instances");
  ins->require_subcommand(1);
  auto* ins_create = ins->add_subcommand("create", "Create an instance (mq must be activated); prints its id");
  need_account(ins_create);
  ins_create->add_option("--name", a->name, "Instance name")->required();
  ins_create->add_option("--remark", a->remark, "Remark");
  ins_create->add_option("--region", a->region, "Region in the id (default local; use the server's [mq] region)");
  ins_create->add_flag("--lax-client-id", a->lax_client_id, "Any client id (no <GroupId>@@@<DeviceId> rule)");
  ins_create->add_flag("--lax-topic", a->lax_topic, "Topics need no existing parent topic");
  ins_create->add_flag("--drop-denied-publish", a->drop_denied, "MQTT 3.x: drop a denied PUBLISH instead of closing");
  ins_create->add_flag("--message-trace", a->message_trace, "Record message traces (publish and each delivery)");
  ins_create->add_option("--edition", a->edition,
                         "basic, professional (default), platinum or serverless: the default limits (docs/spec.md)");
  ins_create->callback(with_account([a, mq](const std::string& acct) -> Err {
    // The switches given as flags, on top of the edition's defaults.
    mq::SettingValues sets;
    if (a->lax_client_id) sets.emplace_back("StrictClientId", "false");
    if (a->lax_topic) sets.emplace_back("StrictTopic", "false");
    if (a->drop_denied) sets.emplace_back("CloseOnDeniedPublish", "false");
    if (a->message_trace) sets.emplace_back("MessageTrace", "true");
    auto r = mq().CreateInstance(acct, mq::InstanceSpec{a->name, a->edition, a->remark, std::nullopt, ""}, sets);
    if (!r) return r.error();
    std::cout << r->id << "\n";
    return std::nullopt;
  }));
  auto* ins_list = ins->add_subcommand("list", "List instances");
  need_account(ins_list);
  ins_list->callback(with_account([mq](const std::string& acct) -> Err {
    auto r = mq().ListInstances(acct);
    if (!r) return r.error();
    for (const auto& i : *r) std::cout << i.id << "\t" << i.name << "\t" << i.type << "\t" << i.status << "\n";
    return std::nullopt;
  }));
  auto* ins_upd = ins->add_subcommand(
      "update", "Change an instance's name, remark, limits or switches (applied at once to connected clients)");
  need_instance(ins_upd);
  ins_upd->add_option("--name", a->name, "New name");
  ins_upd->add_option("--remark", a->remark, "New remark");
  std::string set_help = "Setting=Value (repeat); settings:";
  for (const auto& st : mq::instance_settings()) set_help += std::string("\n  ") + st.name + ": " + st.help;
  ins_upd->add_option("--set", a->sets, set_help);
  ins_upd->add_option("--edition", a->edition,
                      "A new edition: its default limits, the settings set on the instance kept");
  ins_upd->add_option("--reset", a->resets, "Setting (repeat) back to the edition's default; all: every one");
  ins_upd->callback(with_account([a, mq](const std::string& acct) -> Err {
    mq::InstanceChange ch;
    if (!a->name.empty()) ch.name = a->name;
    if (!a->remark.empty()) ch.remark = a->remark;
    if (!a->edition.empty()) ch.type = a->edition;
    ch.resets = a->resets;
    for (const auto& kv : a->sets) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos) return iam::Error{"InvalidParameter", 400, "--set takes Setting=Value, not " + kv};
      ch.sets.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    auto r = mq().UpdateInstance(acct, a->instance, ch);
    if (!r) return r.error();
    std::cout << "updated " << r->id << "\n";
    return std::nullopt;
  }));
  auto* ins_show = ins->add_subcommand("show", "Show an instance with its limits and switches");
  need_instance(ins_show);
  ins_show->callback(with_account([a, mq](const std::string& acct) -> Err {
    auto r = mq().GetInstance(acct, a->instance);
    if (!r) return r.error();
    std::cout << "InstanceId: " << r->id << "\nInstanceName: " << r->name << "\nInstanceType: " << r->type
              << "\nStatus: " << r->status << "\n";
    const auto own = mq().overrides_of(*r);
    for (const auto& st : mq::instance_settings()) {
      const bool set = std::find(own.begin(), own.end(), st.name) != own.end();
      std::cout << st.name << ": " << mq::setting_text(r->settings, st) << (set ? " (set for this instance)" : "")
                << "\n";
    }
    return std::nullopt;
  }));
  auto* ins_rel = ins->add_subcommand("release", "Release (delete) an instance; its clients are dropped");
  need_instance(ins_rel);
  ins_rel->callback(with_account([a, mq](const std::string& acct) -> Err {
    if (auto s = mq().ReleaseInstance(acct, a->instance); !s) return s.error();
    std::cout << "released " << a->instance << "\n";
    return std::nullopt;
  }));

  // topic
  auto* top = app.add_subcommand("topic", "Parent topics of an instance");
  top->require_subcommand(1);
  auto* top_create = top->add_subcommand("create", "Create a parent topic");
  need_instance(top_create);
  top_create->add_option("--topic", a->topic, "Parent topic (level 1)")->required();
  top_create->add_option("--remark", a->remark, "Remark");
  top_create->callback(with_account([a, mq](const std::string& acct) -> Err {
    auto r = mq().CreateTopic(acct, a->instance, a->topic, a->remark);
    if (!r) return r.error();
    std::cout << r->topic << "\n";
    return std::nullopt;
  }));
  auto* top_del = top->add_subcommand("delete", "Delete a parent topic");
  need_instance(top_del);
  top_del->add_option("--topic", a->topic, "Parent topic")->required();
  top_del->callback(with_account([a, mq](const std::string& acct) -> Err {
    if (auto s = mq().DeleteTopic(acct, a->instance, a->topic); !s) return s.error();
    std::cout << "deleted " << a->topic << "\n";
    return std::nullopt;
  }));

  // group
  auto* grp = app.add_subcommand("mq-group", "Group ids of an instance (GID_...)");
  grp->alias("gid");
  grp->require_subcommand(1);
  auto* grp_create = grp->add_subcommand("create", "Create a group id");
  need_instance(grp_create);
  grp_create->add_option("--group", a->group, "Group id (GID_ or GID- prefix)")->required();
  grp_create->callback(with_account([a, mq](const std::string& acct) -> Err {
    auto r = mq().CreateGroupId(acct, a->instance, a->group, a->remark);
    if (!r) return r.error();
    std::cout << r->group_id << "\n";
    return std::nullopt;
  }));

  // token
  auto* tok = app.add_subcommand("token", "Tokens (ApplyToken / RevokeToken)");
  tok->require_subcommand(1);
  auto* tok_apply = tok->add_subcommand("apply", "Apply for a token; prints it (shown only now)");
  need_instance(tok_apply);
  tok_apply->add_option("--resource", a->resources, "Topic filter (repeat, up to 100)")->required();
  tok_apply->add_option("--actions", a->actions, "R, W or R,W (default R,W)");
  tok_apply->add_option("--ttl", a->ttl, "Seconds until expiry (default 3600)");
  tok_apply->callback(with_account([a, mq](const std::string& acct) -> Err {
    auto r = mq().ApplyToken(acct, a->instance, a->resources, a->actions, mq().now_ms() + a->ttl * 1000);
    if (!r) return r.error();
    std::cout << *r << "\n";
    return std::nullopt;
  }));
  auto* tok_revoke = tok->add_subcommand("revoke", "Revoke a token");
  need_instance(tok_revoke);
  tok_revoke->add_option("--token", a->token, "The token")->required();
  tok_revoke->callback(with_account([a, mq](const std::string& acct) -> Err {
    if (auto s = mq().RevokeToken(acct, a->instance, a->token); !s) return s.error();
    std::cout << "revoked\n";
    return std::nullopt;
  }));

  // device credentials
  auto* dc = app.add_subcommand("device-credential", "Device credentials (one per client id)");
  dc->require_subcommand(1);
  auto* dc_reg = dc->add_subcommand("register", "Register; prints DeviceAccessKeyId<TAB>DeviceAccessKeySecret");
  need_instance(dc_reg);
  dc_reg->add_option("--client-id", a->client_id, "<GroupId>@@@<DeviceId>")->required();
  dc_reg->callback(with_account([a, mq](const std::string& acct) -> Err {
    auto r = mq().RegisterDeviceCredential(acct, a->instance, a->client_id);
    if (!r) return r.error();
    std::cout << r->device_access_key_id << "\t" << r->device_access_key_secret << "\n";
    return std::nullopt;
  }));
  auto* dc_unreg = dc->add_subcommand("unregister", "Unregister (the connected device is dropped)");
  need_instance(dc_unreg);
  dc_unreg->add_option("--client-id", a->client_id, "Client id")->required();
  dc_unreg->callback(with_account([a, mq](const std::string& acct) -> Err {
    if (auto s = mq().UnRegisterDeviceCredential(acct, a->instance, a->client_id); !s) return s.error();
    std::cout << "unregistered " << a->client_id << "\n";
    return std::nullopt;
  }));

  // custom auth
  auto* ca = app.add_subcommand("custom-auth", "Custom authentication: identities, permissions, blacklist");
  ca->require_subcommand(1);
  auto* ca_add = ca->add_subcommand("add", "Add an identity (AddCustomAuthIdentity)");
  need_instance(ca_add);
  ca_add->add_option("--username", a->username, "Username")->required();
  ca_add->add_option("--type", a->type, "USER (any client id) or CLIENT (one client id)");
  ca_add->add_option("--client-id", a->client_id, "CLIENT identities: the client id");
  ca_add->add_option("--secret", a->secret, "Secret")->required();
  ca_add->add_option("--sign-mode", a->sign_mode, "ORIGIN (password = secret) or SIGNED (HMAC of the client id)");
  ca_add->callback(with_account([a, mq](const std::string& acct) -> Err {
    if (auto s = mq().AddCustomAuthIdentity(acct, a->instance, a->username, a->type, a->client_id, a->secret,
                                            a->sign_mode);
        !s)
      return s.error();
    std::cout << "added " << a->username << "\n";
    return std::nullopt;
  }));
  auto* ca_permit = ca->add_subcommand("permit", "Add a permission (AddCustomAuthPermission)");
  need_instance(ca_permit);
  ca_permit->add_option("--identity", a->identity, "Username (USER) or client id (CLIENT)")->required();
  ca_permit->add_option("--type", a->type, "USER or CLIENT");
  ca_permit->add_option("--topic", a->topic, "Topic filter")->required();
  ca_permit->add_option("--action", a->action, "PUB, SUB or PUB_SUB");
  ca_permit->add_option("--effect", a->effect, "ALLOW or DENY");
  ca_permit->callback(with_account([a, mq](const std::string& acct) -> Err {
    if (auto s = mq().AddCustomAuthPermission(acct, a->instance, a->identity, a->type, a->topic, a->action, a->effect);
        !s)
      return s.error();
    std::cout << "permitted\n";
    return std::nullopt;
  }));
  auto* ca_black = ca->add_subcommand("black", "Blacklist a client id (AddCustomAuthConnectBlack)");
  need_instance(ca_black);
  ca_black->add_option("--client-id", a->client_id, "Client id")->required();
  ca_black->callback(with_account([a, mq](const std::string& acct) -> Err {
    if (auto s = mq().AddCustomAuthConnectBlack(acct, a->instance, a->client_id); !s) return s.error();
    std::cout << "blacklisted " << a->client_id << "\n";
    return std::nullopt;
  }));

  // CA and device certificates (admin_certs.cpp)
  add_cert_commands(app, MqCommandHooks{mq, h.resolve_account, h.rc});
  // Data rules (admin_rules.cpp, issue 19)
  add_rule_commands(app, MqCommandHooks{mq, h.resolve_account, h.rc});

  // password helper
  auto* sign = app.add_subcommand("sign", "Print Base64(HMAC-SHA1(secret, client id)): a Signature-mode password");
  sign->add_option("--secret", a->secret, "AccessKeySecret / DeviceAccessKeySecret")->required();
  sign->add_option("--client-id", a->client_id, "Client id")->required();
  sign->callback([a] { std::cout << mq::sign_client_id(a->secret, a->client_id) << "\n"; });
}

}  // namespace sluice::app
