// Custom authentication: identities (USER / CLIENT, secrets sealed per
// identity), topic permissions and the connect blacklist of an instance.
#include "mq/internal.hpp"

namespace sluice::mq {

using namespace detail;

namespace {

// The custom-auth request parameters, checked together: the values, or the
// InvalidParameter error the API returns for the first bad one.
struct IdentityArgs {
  IdentityType type;
  SignMode sign_mode;
  std::string identity;  // the username (USER) or the client id (CLIENT)
};
Result<IdentityArgs> identity_args(std::string_view identity_type, std::string_view sign_mode,
                                   std::string_view username, std::string_view client_id,
                                   std::string_view secret) {
  auto t = identity_type_from(identity_type);
  if (!t) return bad("IdentityType", "IdentityType must be USER or CLIENT.");
  auto m = sign_mode_from(sign_mode);
  if (!m) return bad("SignMode", "SignMode must be ORIGIN or SIGNED.");
  if (secret.empty() || secret.size() > 256) return bad("Secret", "The secret must be 1 to 256 characters.");
  return IdentityArgs{*t, *m, std::string(*t == IdentityType::Client ? client_id : username)};
}

struct PermissionArgs {
  IdentityType type;
  PermitAction action;
  PermitEffect effect;
};
Result<PermissionArgs> permission_args(std::string_view identity_type, std::string_view permit_action,
                                       std::string_view effect) {
  auto t = identity_type_from(identity_type);
  if (!t) return bad("IdentityType", "IdentityType must be USER or CLIENT.");
  auto a = permit_action_from(permit_action);
  if (!a) return bad("PermitAction", "PermitAction must be PUB, SUB or PUB_SUB.");
  auto e = effect_from(effect);
  if (!e) return bad("Effect", "Effect must be ALLOW or DENY.");
  return PermissionArgs{*t, *a, *e};
}

}  // namespace

Status MqService::AddCustomAuthIdentity(std::string_view account_id, std::string_view instance_id,
                                        std::string_view username, std::string_view identity_type,
                                        std::string_view client_id, std::string_view secret,
                                        std::string_view sign_mode) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  auto args = identity_args(identity_type, sign_mode, username, client_id, secret);
  if (!args) return args.error();
  if (username.empty() || username.size() > 128) return bad("Username", "The username must be 1 to 128 characters.");
  if (username.find('|') != std::string_view::npos)
    return bad("Username", "A custom-auth username may not contain '|' (it would name another mode).");
  if (args->type == IdentityType::Client && client_id.empty())
    return bad("ClientId", "A CLIENT identity needs the client id it is valid for.");
  // Named copies, not a structured binding: clang 14 cannot capture those in the lambda.
  const IdentityType t = args->type;
  const SignMode m = args->sign_mode;
  const std::string& identity = args->identity;
  const int64_t now = now_ms();
  return write(account_id, [&](store::Db& db) -> Status {
    if (db.query("SELECT 1 FROM mq_custom_identities WHERE instance_id = ? AND identity_type = ? AND identity = ?",
                 instance_id, to_string(t), identity)
            .step())
      return already_exists("EntityAlreadyExists.CustomAuthIdentity",
                            "The identity \"" + identity + "\" already exists; use UpdateCustomAuthIdentity.");
    db.run("INSERT INTO mq_custom_identities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", instance_id, to_string(t),
           identity, username, std::string(client_id),
           store::Blob{store_->box().seal(secret, identity_aad(instance_id, t, identity))}, to_string(m), now, now);
    return {};
  });
}

Status MqService::UpdateCustomAuthIdentity(std::string_view account_id, std::string_view instance_id,
                                           std::string_view username, std::string_view identity_type,
                                           std::string_view client_id, std::string_view secret,
                                           std::string_view sign_mode) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  auto args = identity_args(identity_type, sign_mode, username, client_id, secret);
  if (!args) return args.error();
  const IdentityType t = args->type;
  const std::string& identity = args->identity;
  return change_one(account_id,
                    not_exist("EntityNotExist.CustomAuthIdentity", "The identity \"" + identity + "\" does not exist."),
                    "UPDATE mq_custom_identities SET secret = ?, sign_mode = ?, username = ?, updated_ms = ? WHERE "
                    "instance_id = ? AND identity_type = ? AND identity = ?",
                    store::Blob{store_->box().seal(secret, identity_aad(instance_id, t, identity))}, to_string(args->sign_mode),
                    username, now_ms(), instance_id, to_string(t), identity);
}

Status MqService::DeleteCustomAuthIdentity(std::string_view account_id, std::string_view instance_id,
                                           std::string_view username, std::string_view identity_type,
                                           std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  auto t = identity_type_from(identity_type);
  if (!t) return bad("IdentityType", "IdentityType must be USER or CLIENT.");
  const std::string identity(*t == IdentityType::Client ? client_id : username);
  return change_one(account_id,
                    not_exist("EntityNotExist.CustomAuthIdentity", "The identity \"" + identity + "\" does not exist."),
                    "DELETE FROM mq_custom_identities WHERE instance_id = ? AND identity_type = ? AND identity = ?",
                    instance_id, to_string(*t), identity);
}

Result<std::vector<CustomIdentity>> MqService::QueryCustomAuthIdentity(std::string_view account_id,
                                                                       std::string_view instance_id,
                                                                       std::string_view username,
                                                                       std::string_view identity_type,
                                                                       std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  auto st = state();
  std::vector<CustomIdentity> out;
  for (auto c : st->instance(instance_id)->identities) {
    if (!username.empty() && c.username != username) continue;
    if (!identity_type.empty() && identity_type != to_string(c.type)) continue;
    if (!client_id.empty() && c.client_id != client_id) continue;
    c.secret.clear();
    out.push_back(std::move(c));
  }
  return out;
}

Status MqService::AddCustomAuthPermission(std::string_view account_id, std::string_view instance_id,
                                          std::string_view identity, std::string_view identity_type,
                                          std::string_view topic, std::string_view permit_action,
                                          std::string_view effect) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  auto args = permission_args(identity_type, permit_action, effect);
  if (!args) return args.error();
  const IdentityType t = args->type;  // named, not bound: captured by the lambda below
  const PermitAction a = args->action;
  const PermitEffect e = args->effect;
  if (identity.empty()) return bad("Identity", "The identity (username or client id) is required.");
  if (auto err = check_filter("Topic", topic)) return *err;
  return write(account_id, [&](store::Db& db) -> Status {
    if (db.query("SELECT 1 FROM mq_custom_permissions WHERE instance_id = ? AND identity_type = ? AND identity = ? "
                 "AND topic = ?",
                 instance_id, to_string(t), identity, topic)
            .step())
      return already_exists("EntityAlreadyExists.CustomAuthPermission",
                            "A permission of \"" + std::string(identity) + "\" on \"" + std::string(topic) +
                                "\" exists; use UpdateCustomAuthPermission.");
    db.run("INSERT INTO mq_custom_permissions VALUES (?, ?, ?, ?, ?, ?, ?)", instance_id, to_string(t), identity,
           topic, to_string(a), to_string(e), now_ms());
    return {};
  });
}

Status MqService::UpdateCustomAuthPermission(std::string_view account_id, std::string_view instance_id,
                                             std::string_view identity, std::string_view identity_type,
                                             std::string_view topic, std::string_view permit_action,
                                             std::string_view effect) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  auto args = permission_args(identity_type, permit_action, effect);
  if (!args) return args.error();
  return change_one(account_id, not_exist("EntityNotExist.CustomAuthPermission", "No such permission."),
                    "UPDATE mq_custom_permissions SET permit_action = ?, effect = ? WHERE instance_id = ? AND "
                    "identity_type = ? AND identity = ? AND topic = ?",
                    to_string(args->action), to_string(args->effect), instance_id, to_string(args->type), identity,
                    topic);
}

Status MqService::DeleteCustomAuthPermission(std::string_view account_id, std::string_view instance_id,
                                             std::string_view identity, std::string_view identity_type,
                                             std::string_view topic) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  auto t = identity_type_from(identity_type);
  if (!t) return bad("IdentityType", "IdentityType must be USER or CLIENT.");
  return change_one(
      account_id, not_exist("EntityNotExist.CustomAuthPermission", "No such permission."),
      "DELETE FROM mq_custom_permissions WHERE instance_id = ? AND identity_type = ? AND identity = ? AND "
      "topic = ?",
      instance_id, to_string(*t), identity, topic);
}

Result<std::vector<CustomPermission>> MqService::QueryCustomAuthPermission(std::string_view account_id,
                                                                           std::string_view instance_id,
                                                                           std::string_view identity,
                                                                           std::string_view identity_type,
                                                                           std::string_view topic) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  auto st = state();
  std::vector<CustomPermission> out;
  for (const auto& p : st->instance(instance_id)->permissions) {
    if (!identity.empty() && p.identity != identity) continue;
    if (!identity_type.empty() && identity_type != to_string(p.identity_type)) continue;
    if (!topic.empty() && p.topic != topic) continue;
    out.push_back(p);
  }
  return out;
}

Status MqService::AddCustomAuthConnectBlack(std::string_view account_id, std::string_view instance_id,
                                            std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  if (client_id.empty() || client_id.size() > 128) return bad("ClientId", "The client id must be 1 to 128 characters.");
  return write(account_id, [&](store::Db& db) -> Status {
    db.run("INSERT INTO mq_connect_black VALUES (?, ?, ?) ON CONFLICT DO NOTHING", instance_id, client_id, now_ms());
    return {};
  });
}

Status MqService::DeleteCustomAuthConnectBlack(std::string_view account_id, std::string_view instance_id,
                                               std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  return change_one(account_id,
                    not_exist("EntityNotExist.CustomAuthConnectBlack",
                              "The client id \"" + std::string(client_id) + "\" is not blacklisted."),
                    "DELETE FROM mq_connect_black WHERE instance_id = ? AND client_id = ?", instance_id, client_id);
}

Result<std::vector<std::string>> MqService::QueryCustomAuthConnectBlack(std::string_view account_id,
                                                                        std::string_view instance_id,
                                                                        std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  std::vector<std::string> out;
  for (const auto& c : state()->instance(instance_id)->blacklist)
    if (client_id.empty() || c == client_id) out.push_back(c);
  return out;
}

}  // namespace sluice::mq
