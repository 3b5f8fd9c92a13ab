#include "app/admin.hpp"
#include "app/admin_audit.hpp"
#include "app/admin_store.hpp"
#include "app/admin_mq.hpp"
#include "app/egress_config.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "common/iso_time.hpp"
#include "iam/authorizer.hpp"
#include "iam/iam_service.hpp"
#include "iam/policy/policy.hpp"
#include "iam/system_catalog.hpp"
#include "store/store.hpp"

namespace sluice::app {

namespace {

using iam::Error;

struct Ctx {
  std::string data_dir = "./data";
  std::string postgres;  // --postgres / SLUICE_POSTGRES: the shared store of a cluster's nodes
  std::shared_ptr<store::Store> store;
  std::unique_ptr<iam::IamService> iam;
};

int fail(const Error& e) {
  std::cerr << "error: " << e.code << ": " << e.message << "\n";
  return 1;
}
int fail(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return 1;
}

bool open_store(Ctx& c) {
  if (c.iam) return true;
  store::StoreOptions opts;
  opts.postgres = c.postgres;
  auto r = store::Store::open(c.data_dir, opts);
  if (!r.store) {
    std::cerr << "error: " << r.error << "\n";
    return false;
  }
  if (r.store->key_source() == store::KeySource::Created)
    std::cerr << "note: created a new master key in " << c.data_dir << "/master.key (mode 0600); back it up\n";
  c.store = std::shared_ptr<store::Store>(std::move(r.store));
  c.iam = std::make_unique<iam::IamService>(c.store);
  return true;
}

// --account takes the 16-digit id or the alias.
iam::Result<std::string> resolve_account(Ctx& c, const std::string& a) {
  if (auto r = c.iam->get_account(a)) return r->id;
  auto all = c.iam->list_accounts();
  if (!all) return all.error();
  for (const auto& x : *all)
    if (x.alias == a || x.login_name == a) return x.id;
  return iam::err::not_exist("EntityNotExist.Account", "No account has the id, alias or login name \"" + a + "\".");
}

iam::Result<iam::PrincipalRef> parse_principal(const std::string& s) {
  auto colon = s.find(':');
  std::string kind = s.substr(0, colon), name = colon == std::string::npos ? "" : s.substr(colon + 1);
  if (name.empty() || (kind != "user" && kind != "group" && kind != "role"))
    return iam::err::invalid("InvalidParameter.Principal",
                             "The principal \"" + s + "\" must be user:NAME, group:NAME or role:NAME.");
  iam::PrincipalRef p;
  p.type = kind == "user" ? iam::PrincipalType::User : kind == "group" ? iam::PrincipalType::Group : iam::PrincipalType::Role;
  p.name = name;
  return p;
}

// "instance/mqtt-local-x" -> ResourceRef{mq, region, instance, mqtt-local-x}
iam::Result<iam::ResourceRef> parse_resource(const std::string& s, const std::string& region) {
  auto slash = s.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s.size())
    return iam::err::invalid("InvalidParameter.Resource", "The resource \"" + s + "\" must be TYPE/ID, e.g. instance/mqtt-local-abc.");
  return iam::ResourceRef{"mq", region, s.substr(0, slash), s.substr(slash + 1)};
}

std::optional<std::string> read_file(const std::string& path, std::string* err) {
  std::ifstream in(path == "-" ? "/dev/stdin" : path);
  if (!in) {
    *err = "cannot read " + path;
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The instance an MQ ARN refers to (instance/<id>, topic/<id>/..., groupId/<id>/...).
std::string instance_of(const std::string& arn) {
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string::npos) return {};
    ++pos;
  }
  std::string rel = arn.substr(pos);
  for (std::string prefix : {"instance/", "topic/", "groupId/"}) {
    if (rel.rfind(prefix, 0) == 0) {
      std::string rest = rel.substr(prefix.size());
      return rest.substr(0, rest.find('/'));
    }
  }
  return {};
}

}  // namespace

int admin_main(int argc, char** argv) {
  Ctx c;
  CLI::App app{"sluice admin: manage accounts, RAM identities, policies and grants in a data directory"};
  app.name("sluice admin");
  app.require_subcommand(1);
  app.add_option("--data-dir", c.data_dir, "Data directory (default ./data); master key from SLUICE_MASTER_KEY or <dir>/master.key");
  if (const char* pg = std::getenv("SLUICE_POSTGRES")) c.postgres = pg;
  app.add_option("--postgres", c.postgres,
                 "The control store in PostgreSQL (libpq conninfo or postgresql:// URI; also SLUICE_POSTGRES); "
                 "default: SQLite in the data directory");
  // Rules made here are checked against the same egress policy as the
  // server's ([rules] allowed_target_networks from the environment; the
  // server checks again at every connection, with its cluster's endpoints).
  try {
    Config env_cfg;
    load_env(env_cfg);
    common::set_egress_policy(egress_policy(env_cfg));
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  int rc = 0;
  std::string account, name, display, comments, password, login, alias, user, group, file, type, rg, id, principal,
      policy_name, action, description, to;
  std::vector<std::string> resources, contexts;

  // account
  auto* acc = app.add_subcommand("account", "Accounts (root identities)");
  acc->require_subcommand(1);
  auto* acc_create = acc->add_subcommand("create", "Create an account; prints its id");
  acc_create->add_option("--login", login, "Login name (e.g. an email address)")->required();
  acc_create->add_option("--alias", alias, "Account alias (RAM users sign in as user@alias.onaliyun.com; default: the account id)");
  acc_create->add_option("--password", password, "Console password (at least 8 characters)")->required();
  acc_create->callback([&] {
    auto a = c.iam->create_account(login, alias, password);
    if (!a) { rc = fail(a.error()); return; }
    std::cout << a->id << "\n";
  });
  auto* acc_list = acc->add_subcommand("list", "List accounts");
  acc_list->callback([&] {
    auto l = c.iam->list_accounts();
    if (!l) { rc = fail(l.error()); return; }
    for (const auto& a : *l)
      std::cout << a.id << "\t" << a.alias << "\t" << a.login_name << "\tmq:" << (a.mq_activated ? "active" : "not-activated") << "\n";
  });

  // service
  auto* svc = app.add_subcommand("service", "Service activation");
  svc->require_subcommand(1);
  auto* svc_act = svc->add_subcommand("activate", "Activate the mq service (free, idempotent)");
  svc_act->add_option("--account", account, "Account id or alias")->required();
  std::string service = "mq";
  svc_act->add_option("--service", service, "Service (mq)");
  svc_act->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    if (auto s = c.iam->activate_service(*a, service); !s) { rc = fail(s.error()); return; }
    std::cout << "activated " << service << " for " << *a << "\n";
  });

  // user
  auto* usr = app.add_subcommand("user", "RAM users");
  usr->require_subcommand(1);
  auto* usr_create = usr->add_subcommand("create", "Create a RAM user");
  usr_create->add_option("--account", account, "Account id or alias")->required();
  usr_create->add_option("--name", name, "User name")->required();
  usr_create->add_option("--display-name", display, "Display name");
  usr_create->add_option("--comments", comments, "Comments");
  usr_create->add_option("--password", password, "Also create a console login profile with this password");
  usr_create->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto u = c.iam->create_user(*a, {name, display, comments});
    if (!u) { rc = fail(u.error()); return; }
    if (!password.empty())
      if (auto p = c.iam->create_login_profile(*a, name, password); !p) { rc = fail(p.error()); return; }
    std::cout << u->name << "\t" << u->user_id << "\n";
  });
  auto* usr_list = usr->add_subcommand("list", "List RAM users");
  usr_list->add_option("--account", account, "Account id or alias")->required();
  usr_list->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto l = c.iam->list_users(*a);
    if (!l) { rc = fail(l.error()); return; }
    for (const auto& u : *l) std::cout << u.name << "\t" << u.user_id << "\t" << u.display_name << "\t" << common::iso8601_utc(u.created_at) << "\n";
  });
  // Issue 21: the administrator's way back in for a user who lost its MFA device
  // (RAM UnbindMFADevice), and the account's password policy (RAM GetPasswordPolicy).
  auto* usr_unbind = usr->add_subcommand("unbind-mfa", "Unbind a RAM user's MFA device (it lost the device)");
  usr_unbind->add_option("--account", account, "Account id or alias")->required();
  usr_unbind->add_option("--name", name, "User name")->required();
  usr_unbind->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto d = c.iam->unbind_mfa_device(*a, name);
    if (!d) { rc = fail(d.error()); return; }
    std::cout << "unbound " << d->serial_number << " from " << name << "\n";
  });
  auto* usr_policy = usr->add_subcommand("password-policy", "Show the account's password policy for RAM users");
  usr_policy->add_option("--account", account, "Account id or alias")->required();
  usr_policy->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto p = c.iam->password_policy(*a);
    if (!p) { rc = fail(p.error()); return; }
    std::cout << p->to_json() << "\n";
  });
  auto* usr_del = usr->add_subcommand("delete", "Delete a RAM user (no keys, groups or policies left)");
  usr_del->add_option("--account", account, "Account id or alias")->required();
  usr_del->add_option("--name", name, "User name")->required();
  usr_del->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    if (auto s = c.iam->delete_user(*a, name); !s) { rc = fail(s.error()); return; }
    std::cout << "deleted user " << name << "\n";
  });

  // key
  auto* key = app.add_subcommand("key", "Access keys (of a RAM user, or of the root account without --user)");
  key->require_subcommand(1);
  auto key_owner = [&]() -> std::optional<std::string> { return user.empty() ? std::nullopt : std::optional<std::string>(user); };
  auto* key_create = key->add_subcommand("create", "Create an access key; prints the id and the secret (shown only now)");
  key_create->add_option("--account", account, "Account id or alias")->required();
  key_create->add_option("--user", user, "RAM user (omit for the root account)");
  key_create->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto k = c.iam->create_access_key(*a, key_owner());
    if (!k) { rc = fail(k.error()); return; }
    std::cout << "AccessKeyId:     " << k->key.id << "\nAccessKeySecret: " << k->secret
              << "\n(the secret is shown only now; store it safely)\n";
  });
  auto* key_list = key->add_subcommand("list", "List access keys (never secrets)");
  key_list->add_option("--account", account, "Account id or alias")->required();
  key_list->add_option("--user", user, "RAM user (omit for the root account)");
  key_list->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto l = c.iam->list_access_keys(*a, key_owner());
    if (!l) { rc = fail(l.error()); return; }
    for (const auto& k : *l) std::cout << k.id << "\t" << iam::to_string(k.status) << "\t" << common::iso8601_utc(k.created_at) << "\n";
  });
  for (const auto& vs : {std::pair{"deactivate", iam::KeyStatus::Inactive}, std::pair{"activate", iam::KeyStatus::Active}}) {
    const char* verb = vs.first;  // plain variables: clang 14 cannot capture structured bindings
    const iam::KeyStatus status = vs.second;
    auto* k = key->add_subcommand(verb, std::string(verb) == "activate" ? "Set a key Active" : "Set a key Inactive");
    k->add_option("--account", account, "Account id or alias")->required();
    k->add_option("--user", user, "RAM user (omit for the root account)");
    k->add_option("--id", id, "AccessKeyId")->required();
    k->callback([&, status, verb] {
      auto a = resolve_account(c, account);
      if (!a) { rc = fail(a.error()); return; }
      if (auto s = c.iam->update_access_key(*a, key_owner(), id, status); !s) { rc = fail(s.error()); return; }
      std::cout << verb << "d " << id << "\n";
    });
  }
  auto* key_del = key->add_subcommand("delete", "Delete an access key");
  key_del->add_option("--account", account, "Account id or alias")->required();
  key_del->add_option("--user", user, "RAM user (omit for the root account)");
  key_del->add_option("--id", id, "AccessKeyId")->required();
  key_del->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    if (auto s = c.iam->delete_access_key(*a, key_owner(), id); !s) { rc = fail(s.error()); return; }
    std::cout << "deleted " << id << "\n";
  });

  // group
  auto* grp = app.add_subcommand("group", "RAM groups");
  grp->require_subcommand(1);
  auto* grp_create = grp->add_subcommand("create", "Create a group");
  grp_create->add_option("--account", account, "Account id or alias")->required();
  grp_create->add_option("--name", name, "Group name")->required();
  grp_create->add_option("--comments", comments, "Comments");
  grp_create->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto g = c.iam->create_group(*a, name, comments);
    if (!g) { rc = fail(g.error()); return; }
    std::cout << g->name << "\t" << g->group_id << "\n";
  });
  auto* grp_add = grp->add_subcommand("add-user", "Add a user to a group");
  grp_add->add_option("--account", account, "Account id or alias")->required();
  grp_add->add_option("--group", group, "Group name")->required();
  grp_add->add_option("--user", user, "User name")->required();
  grp_add->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    if (auto s = c.iam->add_user_to_group(*a, group, user); !s) { rc = fail(s.error()); return; }
    std::cout << "added " << user << " to " << group << "\n";
  });
  auto* grp_rm = grp->add_subcommand("remove-user", "Remove a user from a group");
  grp_rm->add_option("--account", account, "Account id or alias")->required();
  grp_rm->add_option("--group", group, "Group name")->required();
  grp_rm->add_option("--user", user, "User name")->required();
  grp_rm->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    if (auto s = c.iam->remove_user_from_group(*a, group, user); !s) { rc = fail(s.error()); return; }
    std::cout << "removed " << user << " from " << group << "\n";
  });
  auto* grp_list = grp->add_subcommand("list", "List groups");
  grp_list->add_option("--account", account, "Account id or alias")->required();
  grp_list->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto l = c.iam->list_groups(*a);
    if (!l) { rc = fail(l.error()); return; }
    for (const auto& g : *l) std::cout << g.name << "\t" << g.group_id << "\t" << g.comments << "\n";
  });

  // policy
  auto* pol = app.add_subcommand("policy", "System and custom policies");
  pol->require_subcommand(1);
  auto* pol_create = pol->add_subcommand("create", "Create a custom policy from a JSON document file");
  pol_create->add_option("--account", account, "Account id or alias")->required();
  pol_create->add_option("--name", name, "Policy name")->required();
  pol_create->add_option("--document", file, "Policy document file ('-' for stdin)")->required();
  pol_create->add_option("--description", description, "Description");
  pol_create->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    std::string err;
    auto doc = read_file(file, &err);
    if (!doc) { rc = fail(err); return; }
    auto p = c.iam->create_policy(*a, name, *doc, description);
    if (!p) { rc = fail(p.error()); return; }
    std::cout << p->name << "\t" << p->default_version << "\n";
  });
  auto* pol_list = pol->add_subcommand("list", "List policies (system and custom)");
  pol_list->add_option("--account", account, "Account id or alias")->required();
  pol_list->add_option("--type", type, "System or Custom")->check(CLI::IsMember({"System", "Custom"}));
  pol_list->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    std::optional<iam::PolicyType> t;
    if (!type.empty()) t = type == "System" ? iam::PolicyType::System : iam::PolicyType::Custom;
    auto l = c.iam->list_policies(*a, t);
    if (!l) { rc = fail(l.error()); return; }
    for (const auto& p : *l)
      std::cout << p.name << "\t" << iam::to_string(p.type) << "\t" << p.default_version << "\tattached:"
                << p.attachment_count << (p.high_risk ? "\tHIGH-RISK" : "") << "\t" << p.description << "\n";
  });
  auto* pol_check = pol->add_subcommand("check", "Validate a policy document: prints \"valid\" or the error");
  pol_check->add_option("file", file, "Policy document file ('-' for stdin)")->required();
  pol_check->callback([&] {
    std::string err;
    auto doc = read_file(file, &err);
    if (!doc) { rc = fail(err); return; }
    auto r = iam::policy::parse(*doc);
    if (!r.ok()) {
      std::cout << r.error << "\n";
      rc = 1;
      return;
    }
    std::cout << "valid\n";
  });

  // resource groups
  auto* rgc = app.add_subcommand("resource-group", "Resource groups");
  rgc->require_subcommand(1);
  auto* rg_create = rgc->add_subcommand("create", "Create a resource group; prints its id");
  rg_create->add_option("--account", account, "Account id or alias")->required();
  rg_create->add_option("--name", name, "Name (3-50 letters, digits, '-', '.', '_')")->required();
  rg_create->add_option("--display-name", display, "Display name");
  rg_create->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto g = c.iam->create_resource_group(*a, name, display);
    if (!g) { rc = fail(g.error()); return; }
    std::cout << g->id << "\n";
  });
  auto* rg_list = rgc->add_subcommand("list", "List resource groups");
  rg_list->add_option("--account", account, "Account id or alias")->required();
  rg_list->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto l = c.iam->list_resource_groups(*a);
    if (!l) { rc = fail(l.error()); return; }
    for (const auto& g : *l)
      std::cout << g.id << "\t" << g.name << "\t" << g.display_name << (g.is_default ? "\tdefault" : "") << "\n";
  });
  auto* rg_move = rgc->add_subcommand("move", "Move registered resources to a resource group");
  rg_move->add_option("--account", account, "Account id or alias")->required();
  rg_move->add_option("--to", to, "Target resource group id")->required();
  rg_move->add_option("--resource", resources, "TYPE/ID, e.g. instance/mqtt-local-abc (repeatable)")->required();
  rg_move->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    std::vector<iam::ResourceRef> refs;
    for (const auto& r : resources) {
      auto ref = parse_resource(r, c.iam->region());
      if (!ref) { rc = fail(ref.error()); return; }
      refs.push_back(*ref);
    }
    if (auto s = c.iam->move_resources(*a, to, refs); !s) { rc = fail(s.error()); return; }
    std::cout << "moved " << refs.size() << " resource(s) to " << to << "\n";
  });
  auto* rg_reg = rgc->add_subcommand("register", "Register a resource in a group (normally done by the MQ layer)");
  rg_reg->add_option("--account", account, "Account id or alias")->required();
  rg_reg->add_option("--resource", resources, "TYPE/ID")->required()->expected(1);
  rg_reg->add_option("--resource-group", rg, "Resource group id (default: the account's default group)");
  rg_reg->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    auto ref = parse_resource(resources.at(0), c.iam->region());
    if (!ref) { rc = fail(ref.error()); return; }
    auto e = c.iam->register_resource(*a, *ref, rg);
    if (!e) { rc = fail(e.error()); return; }
    std::cout << ref->type << "/" << ref->id << "\t" << e->resource_group_id << "\n";
  });

  // attach / detach
  for (const char* verb : {"attach", "detach"}) {
    auto* s = app.add_subcommand(verb, std::string(verb) == std::string("attach")
                                           ? "Grant a policy to a user, group or role at Account or ResourceGroup scope"
                                           : "Revoke a grant");
    s->add_option("--account", account, "Account id or alias")->required();
    s->add_option("--principal", principal, "user:NAME | group:NAME | role:NAME")->required();
    s->add_option("--policy", policy_name, "Policy name")->required();
    s->add_option("--type", type, "System or Custom (default: System if such a system policy exists)")
        ->check(CLI::IsMember({"System", "Custom"}));
    s->add_option("--resource-group", rg, "Resource group id (default: Account scope)");
    s->callback([&, verb] {
      auto a = resolve_account(c, account);
      if (!a) { rc = fail(a.error()); return; }
      auto p = parse_principal(principal);
      if (!p) { rc = fail(p.error()); return; }
      iam::PolicyType t = type.empty() ? (iam::find_system_policy(policy_name) ? iam::PolicyType::System : iam::PolicyType::Custom)
                                       : (type == "System" ? iam::PolicyType::System : iam::PolicyType::Custom);
      bool attach = std::string(verb) == "attach";
      auto r = attach ? c.iam->attach_policy(*a, *p, t, policy_name, rg) : c.iam->detach_policy(*a, *p, t, policy_name, rg);
      if (!r) { rc = fail(r.error()); return; }
      std::cout << (attach ? "attached " : "detached ") << iam::to_string(t) << " policy " << policy_name
                << (attach ? " to " : " from ") << principal << " at " << (rg.empty() ? "Account" : "ResourceGroup " + rg)
                << "\n";
    });
  }

  // simulate
  auto* sim = app.add_subcommand("simulate", "Evaluate a request as a principal: prints ALLOW/DENY and why");
  sim->add_option("--account", account, "Account id or alias")->required();
  sim->add_option("--principal", principal, "user:NAME | role:NAME (a session without session policy) | root")->required();
  sim->add_option("--action", action, "Action, e.g. mq:PUB")->required();
  sim->add_option("--resource", resources, "Resource ARN (repeatable: a topic and its parent)")->required();
  sim->add_option("--context", contexts, "Condition key=value (repeatable), e.g. acs:SourceIp=10.0.0.1");
  sim->add_option("--resource-group", rg, "Resource group of the resource (default: looked up from the instance in the ARN)");
  sim->callback([&] {
    auto a = resolve_account(c, account);
    if (!a) { rc = fail(a.error()); return; }
    iam::Principal who;
    if (principal == "root") {
      who = iam::Principal::root(*a);
    } else {
      auto p = parse_principal(principal);
      if (!p) { rc = fail(p.error()); return; }
      if (p->type == iam::PrincipalType::Group) { rc = fail("simulate needs a user, a role or root, not a group"); return; }
      if (p->type == iam::PrincipalType::User) {
        who = iam::Principal::user(*a, p->name);
      } else {
        // Evaluate the role's own grants, as a session without a session policy would.
        auto grants = c.iam->grants_for_role(*a, p->name);
        if (!grants) { rc = fail(grants.error()); return; }
        auto set = iam::policy::CompiledSet::compile(std::move(*grants));
        std::string rgid = rg.empty() ? c.iam->resource_group_of(*a, "instance", instance_of(resources.at(0))) : rg;
        iam::policy::Context ctx;
        for (const auto& kv : contexts) {
          auto eq = kv.find('=');
          if (eq == std::string::npos) { rc = fail("--context takes key=value, got \"" + kv + "\""); return; }
          ctx.set(kv.substr(0, eq), kv.substr(eq + 1));
        }
        auto d = set->evaluate({action, resources, rgid, &ctx});
        std::cout << iam::to_string(d.effect) << "\n" << d.explain(set->grants()) << "\n";
        return;
      }
    }
    iam::policy::Context ctx;
    for (const auto& kv : contexts) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) { rc = fail("--context takes key=value, got \"" + kv + "\""); return; }
      ctx.set(kv.substr(0, eq), kv.substr(eq + 1));
    }
    std::string rgid = rg.empty() ? c.iam->resource_group_of(*a, "instance", instance_of(resources.at(0))) : rg;
    iam::Authorizer authz(*c.iam);
    auto v = authz.decide(who, action, std::span<const std::string>(resources), rgid, &ctx);
    std::cout << iam::to_string(v.effect) << "\n" << v.explain() << "\n";
  });

  // ApsaraMQ resources (instance, topic, mq-group, token, device-credential, custom-auth, sign).
  add_mq_commands(app, {[&]() -> iam::IamService& { return *c.iam; }, [&] { return c.store; },
                        [&](const std::string& a) { return resolve_account(c, a); }, &rc});
  add_audit_commands(app, {[&]() -> iam::IamService& { return *c.iam; }, [&] { return c.store; },
                           [&](const std::string& a) { return resolve_account(c, a); }, &rc});

  CLI::App* store_cmd = add_store_commands(app, rc);  // opens its own two stores

  // Open the store once the command line has parsed, before any callback runs.
  app.parse_complete_callback([&] {
    if (store_cmd->parsed()) return;
    if (!open_store(c)) throw CLI::RuntimeError(1);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {  // e.g. a schema newer than this binary, met by a service's migrations
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return rc;
}

}  // namespace sluice::app
