#include "mq/mq_service.hpp"
#include "mq/settings.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <tuple>
#include <ctime>

#include "broker/broker.hpp"
#include "common/log.hpp"
#include "iam/iam_service.hpp"
#include "mq/signature.hpp"
#include "store/crypto.hpp"
#include "store/store.hpp"

namespace sluice::mq {

namespace json = boost::json;
using iam::err::already_exists;
using iam::err::invalid;
using iam::err::not_exist;

const char* to_string(IdentityType t) { return t == IdentityType::Client ? "CLIENT" : "USER"; }
const char* to_string(SignMode m) { return m == SignMode::Signed ? "SIGNED" : "ORIGIN"; }
const char* to_string(PermitAction a) {
  return a == PermitAction::Pub ? "PUB" : a == PermitAction::Sub ? "SUB" : "PUB_SUB";
}
const char* to_string(PermitEffect e) { return e == PermitEffect::Deny ? "DENY" : "ALLOW"; }

const CustomIdentity* InstanceState::find_identity(IdentityType t, std::string_view name) const {
  for (const auto& i : identities)
    if (i.type == t && i.identity() == name) return &i;
  return nullptr;
}

namespace {

int64_t system_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t steady_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return iam::err::internal(std::string("storage error: ") + e.what());
  }
}

bool name_chars(std::string_view s, std::string_view extra) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          extra.find(c) != std::string_view::npos))
      return false;
  return true;
}

Error bad(std::string field, std::string msg) { return invalid("InvalidParameter." + field, std::move(msg)); }

std::string settings_json(const InstanceSettings& s) { return settings_to_json(s); }

std::optional<Error> check_settings(const InstanceSettings& s) {
  std::string field;
  if (auto m = check_settings_range(s, &field)) return bad(field, *m);
  return std::nullopt;
}

std::optional<IdentityType> identity_type_from(std::string_view s) {
  if (s == "USER") return IdentityType::User;
  if (s == "CLIENT") return IdentityType::Client;
  return std::nullopt;
}
std::optional<SignMode> sign_mode_from(std::string_view s) {
  if (s == "ORIGIN" || s.empty()) return SignMode::Origin;
  if (s == "SIGNED") return SignMode::Signed;
  return std::nullopt;
}
std::optional<PermitAction> permit_action_from(std::string_view s) {
  if (s == "PUB") return PermitAction::Pub;
  if (s == "SUB") return PermitAction::Sub;
  if (s == "PUB_SUB") return PermitAction::PubSub;
  return std::nullopt;
}
std::optional<PermitEffect> effect_from(std::string_view s) {
  if (s == "ALLOW") return PermitEffect::Allow;
  if (s == "DENY") return PermitEffect::Deny;
  return std::nullopt;
}

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

std::optional<Error> check_filter(std::string_view field, std::string_view f) {
  if (f.empty() || f.size() > 1024) return bad(std::string(field), "A topic filter must be 1 to 1024 characters.");
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '#' && (i + 1 != f.size() || (i > 0 && f[i - 1] != '/')))
      return bad(std::string(field), "\"#\" may only be the last level of a topic filter: \"" + std::string(f) + "\".");
    if (f[i] == '+' && ((i > 0 && f[i - 1] != '/') || (i + 1 < f.size() && f[i + 1] != '/')))
      return bad(std::string(field), "\"+\" must fill a whole level of a topic filter: \"" + std::string(f) + "\".");
  }
  return std::nullopt;
}

std::string identity_aad(std::string_view inst, IdentityType t, std::string_view identity) {
  return std::string(inst) + "/" + to_string(t) + "/" + std::string(identity);
}

}  // namespace

// ---------------------------------------------------------------------------
// construction, snapshot, polling

MqService::MqService(std::shared_ptr<store::Store> store, iam::IamService& iam, MqOptions opts, Clock clock)
    : store_(std::move(store)), iam_(iam), opts_(std::move(opts)), clock_(clock ? clock : &system_ms),
      traces_(opts_.traces) {
  std::lock_guard lk(store_->mutex());
  migrate();
  auto q = store_->db().query("PRAGMA data_version");
  q.step();
  data_version_ = q.int64(0);
  reload_locked();
  last_poll_ms_ = steady_ms();
}

MqService::~MqService() = default;

std::shared_ptr<const MqState> MqService::state() const {
  std::lock_guard lk(state_mu_);
  return state_;
}

void MqService::reload() {
  std::lock_guard lk(store_->mutex());
  reload_locked();
}

void MqService::reload_locked() {
  auto s = std::make_shared<MqState>();
  auto& db = store_->db();
  const auto& box = store_->box();
  {
    auto q = db.query(
        "SELECT id, account_id, name, type, status, remark, settings, created_at, updated_at FROM mq_instances");
    while (q.step()) {
      InstanceState st;
      st.inst = Instance{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5),
                         settings_from_json(q.text(6)), q.int64(7), q.int64(8)};
      s->instances.emplace(st.inst.id, std::move(st));
    }
  }
  auto inst = [&](const std::string& id) -> InstanceState* {
    auto it = s->instances.find(id);
    return it == s->instances.end() ? nullptr : &it->second;
  };
  {
    auto q = db.query("SELECT instance_id, topic FROM mq_topics");
    while (q.step())
      if (auto* i = inst(q.text(0))) i->topics.insert(q.text(1));
  }
  {
    auto q = db.query("SELECT instance_id, group_id FROM mq_groups");
    while (q.step())
      if (auto* i = inst(q.text(0))) i->groups.insert(q.text(1));
  }
  {
    auto q = db.query("SELECT instance_id, client_id, key_id, secret, created_ms, updated_ms FROM mq_device_credentials");
    while (q.step()) {
      auto* i = inst(q.text(0));
      if (!i) continue;
      auto secret = box.open(q.blob(3), q.text(2));
      if (!secret) {
        log::error("mq: device credential {} cannot be decrypted with this master key; skipped", q.text(2));
        continue;
      }
      DeviceCredential d{q.text(0), q.text(1), q.text(2), *secret, q.int64(4), q.int64(5)};
      s->device_keys[d.device_access_key_id] = {d.instance_id, d.client_id};
      i->devices.emplace(d.client_id, std::move(d));
    }
  }
  {
    auto q = db.query(
        "SELECT instance_id, identity_type, identity, username, client_id, secret, sign_mode, created_ms, updated_ms "
        "FROM mq_custom_identities");
    while (q.step()) {
      auto* i = inst(q.text(0));
      if (!i) continue;
      CustomIdentity c;
      c.instance_id = q.text(0);
      c.type = identity_type_from(q.text(1)).value_or(IdentityType::User);
      c.username = q.text(3);
      c.client_id = q.text(4);
      auto secret = box.open(q.blob(5), identity_aad(c.instance_id, c.type, q.text(2)));
      if (!secret) {
        log::error("mq: custom-auth identity {} of {} cannot be decrypted with this master key; skipped", q.text(2),
                   c.instance_id);
        continue;
      }
      c.secret = *secret;
      c.sign_mode = sign_mode_from(q.text(6)).value_or(SignMode::Origin);
      c.create_time_ms = q.int64(7);
      c.update_time_ms = q.int64(8);
      i->identities.push_back(std::move(c));
    }
  }
  {
    auto q = db.query(
        "SELECT instance_id, identity_type, identity, topic, permit_action, effect, created_ms FROM "
        "mq_custom_permissions");
    while (q.step()) {
      auto* i = inst(q.text(0));
      if (!i) continue;
      CustomPermission p;
      p.instance_id = q.text(0);
      p.identity_type = identity_type_from(q.text(1)).value_or(IdentityType::User);
      p.identity = q.text(2);
      p.topic = q.text(3);
      p.action = permit_action_from(q.text(4)).value_or(PermitAction::PubSub);
      p.effect = effect_from(q.text(5)).value_or(PermitEffect::Deny);
      p.create_time_ms = q.int64(6);
      i->permissions.push_back(std::move(p));
    }
  }
  {
    auto q = db.query("SELECT instance_id, client_id FROM mq_connect_black");
    while (q.step())
      if (auto* i = inst(q.text(0))) i->blacklist.insert(q.text(1));
  }
  std::unordered_map<std::string, TokenInfo> tokens;
  {
    auto q = db.query(
        "SELECT token_hash, instance_id, account_id, resources, actions, expire_ms, created_at, revoked FROM mq_tokens");
    while (q.step()) {
      TokenInfo t;
      t.instance_id = q.text(1);
      t.account_id = q.text(2);
      json::error_code ec;
      auto v = json::parse(q.text(3), ec);
      if (!ec && v.is_array())
        for (const auto& r : v.as_array())
          if (r.is_string()) t.resources.emplace_back(r.as_string());
      std::string a = q.text(4);
      t.read = a.find('R') != std::string::npos;
      t.write = a.find('W') != std::string::npos;
      t.expire_time_ms = q.int64(5);
      t.created_at = q.int64(6);
      t.revoked = q.int64(7) != 0;
      tokens.emplace(q.text(0), std::move(t));
    }
  }
  {
    std::unique_lock lk(tokens_mu_);
    tokens_.swap(tokens);
  }
  std::shared_ptr<const MqState> cs = std::move(s);
  {
    std::lock_guard lk(state_mu_);
    state_ = cs;
  }
  bind_namespaces(*cs);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void MqService::maybe_poll() {
  int64_t t = steady_ms();
  int64_t last = last_poll_ms_.load(std::memory_order_relaxed);
  if (t - last < 200 || !last_poll_ms_.compare_exchange_strong(last, t)) return;
  poll_external_changes();
}

void MqService::poll_external_changes() {
  std::unique_lock lk(store_->mutex(), std::try_to_lock);
  if (!lk.owns_lock()) return;
  try {
    auto q = store_->db().query("PRAGMA data_version");
    if (!q.step() || q.int64(0) == data_version_) return;
    data_version_ = q.int64(0);
    reload_locked();
  } catch (const std::exception&) {
    // busy: next poll
  }
}

broker::NamespaceConfig MqService::namespace_config(const InstanceSettings& s, const broker::NamespaceConfig& d) {
  broker::NamespaceConfig c = d;
  // The payload limit is enforced through the packet size: payload + the longest
  // topic (4 bytes per UTF-8 char at most) + room for headers and properties.
  const uint64_t packet = uint64_t(s.max_payload) + uint64_t(s.max_topic_length) * 4 + 1024;
  c.max_packet_size = static_cast<uint32_t>(std::min<uint64_t>(packet, d.max_packet_size));
  c.max_subscriptions_per_client = static_cast<uint16_t>(std::min<uint32_t>(s.max_subscriptions_per_client, 65535));
  c.max_session_expiry = std::min(d.max_session_expiry, s.offline_message_ttl_s);
  c.maximum_qos = s.qos2 ? std::min<uint8_t>(d.maximum_qos, 2) : std::min<uint8_t>(d.maximum_qos, 1);
  c.retain_available = d.retain_available && s.retain_available;
  c.shared_subscriptions = d.shared_subscriptions && s.shared_subscriptions;
  c.wildcard_subscriptions = d.wildcard_subscriptions && s.wildcard_subscriptions;
  c.will_available = d.will_available && s.will_available;
  c.max_queued_total = s.max_offline_messages;
  c.p2p_topics = true;
  return c;
}

void MqService::attach_broker(broker::Broker* b) {
  broker_ = b;
  if (auto s = state()) bind_namespaces(*s);
}

void MqService::bind_namespaces(const MqState& s) {
  if (!broker_) return;
  for (const auto& [id, st] : s.instances) {
    auto ns = broker_->find(id);
    const broker::NamespaceConfig cfg = namespace_config(st.inst.settings, broker_->defaults());
    if (!ns) {
      ns = broker_->get_or_create(id, cfg);
      ns->set_tracer(traces_.tracer_for(id));
    } else {
      // UpdateInstance: the broker-side limits and switches apply at once (new
      // connections, and connected ones on their next packet or tick).
      ns->set_config(cfg);
    }
    ns->set_tracing(st.inst.settings.message_trace);
  }
}

Status MqService::owned_instance(std::string_view account_id, std::string_view instance_id) const {
  auto s = state();
  auto* i = s->instance(instance_id);
  if (!i || i->inst.account_id != account_id)
    return not_exist("EntityNotExist.Instance",
                     "The instance \"" + std::string(instance_id) + "\" does not exist in this account.");
  return {};
}

template <class F>
auto MqService::write(std::string_view account_id, F&& f) -> decltype(f()) {
  (void)account_id;
  return guarded([&]() -> decltype(f()) {
    std::lock_guard lk(store_->mutex());
    auto r = f();
    if (r.ok()) reload_locked();
    return r;
  });
}

// One statement, in a transaction, that must change a row: else `missing`.
template <class... A>
Status MqService::change_one(std::string_view account_id, const Error& missing, std::string_view sql,
                             const A&... args) {
  return write(account_id, [&]() -> Status {
    auto& db = store_->db();
    store::Transaction tx(db);
    if (db.run(sql, args...) == 0) return missing;
    tx.commit();
    return {};
  });
}

// ---------------------------------------------------------------------------
// instances

Result<Instance> MqService::CreateInstance(std::string_view account_id, const InstanceSpec& spec) {
  if (spec.name.empty() || spec.name.size() > 64)
    return bad("InstanceName", "The instance name must be 1 to 64 characters.");
  std::string type = spec.type.empty() ? "professional" : spec.type;
  if (type != "professional" && type != "basic" && type != "platinum" && type != "serverless")
    return bad("InstanceType", "The instance type must be basic, professional, platinum or serverless.");
  InstanceSettings settings = spec.settings.value_or(opts_.instance_defaults);
  if (auto e = check_settings(settings)) return *e;
  auto active = iam_.service_active(account_id, "mq");
  if (!active) return active.error();
  if (!*active)
    return Error{"Forbidden.ServiceNotActivated", 403,
                 "ApsaraMQ for MQTT is not activated for this account. Activate it first (OpenOnsService, free)."};
  if (auto l = ListInstances(account_id); l && l->size() >= opts_.instances_per_account)
    return iam::err::limit("LimitExceeded.Instance", "This account already has the maximum number of instances.");

  Instance in;
  in.account_id = account_id;
  in.name = spec.name;
  in.type = type;
  in.remark = spec.remark;
  in.settings = settings;
  in.created_at = in.updated_at = now_ms() / 1000;
  {
    auto s = state();
    do {
      in.id = "mqtt-" + opts_.region + "-" + store::random_string(12, store::kLowerAlnum);
    } while (s->instance(in.id));
  }
  // The instance is a resource of the account's resource groups (SPEC §3): its
  // topics, groups, tokens and credentials are wherever it is.
  iam::ResourceRef ref{"mq", opts_.region, "instance", in.id};
  auto reg = iam_.register_resource(account_id, ref, spec.resource_group_id);
  if (!reg) return reg.error();
  auto r = write(account_id, [&]() -> Result<Instance> {
    auto& db = store_->db();
    store::Transaction tx(db);
    db.run("INSERT INTO mq_instances(id, account_id, name, type, status, remark, settings, created_at, updated_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
           in.id, in.account_id, in.name, in.type, in.status, in.remark, settings_json(in.settings), in.created_at,
           in.updated_at);
    tx.commit();
    return in;
  });
  if (!r) (void)iam_.unregister_resource(account_id, "instance", in.id);
  return r;
}

Result<Instance> MqService::GetInstance(std::string_view account_id, std::string_view instance_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  return state()->instance(instance_id)->inst;
}

Result<std::vector<Instance>> MqService::ListInstances(std::string_view account_id,
                                                       const std::vector<TagFilter>& tags) {
  std::vector<Instance> out;
  auto s = state();
  for (const auto& [id, st] : s->instances)
    if (st.inst.account_id == account_id) out.push_back(st.inst);
  std::sort(out.begin(), out.end(), [](const Instance& a, const Instance& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
  });
  if (!tags.empty()) {
    std::vector<std::string> ids;
    for (const auto& i : out) ids.push_back(i.id);
    auto tr = ListTagResources(account_id, "instance", ids, tags);
    if (!tr) return tr.error();
    std::set<std::string> keep;
    for (const auto& t : *tr) keep.insert(t.resource_id);
    std::erase_if(out, [&](const Instance& i) { return !keep.count(i.id); });
  }
  return out;
}

Result<Instance> MqService::UpdateInstance(std::string_view account_id, std::string_view instance_id,
                                           std::optional<std::string> name, std::optional<std::string> remark,
                                           std::optional<InstanceSettings> settings) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (name && (name->empty() || name->size() > 64))
    return bad("InstanceName", "The instance name must be 1 to 64 characters.");
  if (settings)
    if (auto e = check_settings(*settings)) return *e;
  Instance in = state()->instance(instance_id)->inst;
  if (name) in.name = *name;
  if (remark) in.remark = *remark;
  if (settings) in.settings = *settings;
  in.updated_at = now_ms() / 1000;
  return write(account_id, [&]() -> Result<Instance> {
    auto& db = store_->db();
    store::Transaction tx(db);
    db.run("UPDATE mq_instances SET name = ?, remark = ?, settings = ?, updated_at = ? WHERE id = ?", in.name,
           in.remark, settings_json(in.settings), in.updated_at, in.id);
    tx.commit();
    return in;
  });
}

Status MqService::ReleaseInstance(std::string_view account_id, std::string_view instance_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  auto r = write(account_id, [&]() -> Status {
    auto& db = store_->db();
    store::Transaction tx(db);
    db.run("DELETE FROM mq_tags WHERE account_id = ? AND resource_type = 'instance' AND resource_id = ?", account_id,
           instance_id);
    db.run("DELETE FROM mq_instances WHERE id = ?", instance_id);  // cascades to topics, groups, tokens, ...
    tx.commit();
    return {};
  });
  if (!r) return r;
  (void)iam_.unregister_resource(account_id, "instance", instance_id);
  traces_.drop_instance(instance_id);
  return {};
}

// ---------------------------------------------------------------------------
// topics and groups

// Parent topics and group ids are the same kind of thing: a name an instance
// holds, with a remark and a creation time, in a table of its own. One set of
// create / delete / list serves both; only the names and the validation differ.
struct MqService::Member {
  const char* table;   // mq_topics | mq_groups
  const char* column;  // its name column
  const char* code;    // in error codes: EntityAlreadyExists.<code>
  const char* noun;    // in messages
  std::set<std::string, std::less<>> InstanceState::*names;
  size_t MqOptions::*limit;
};

namespace {
constexpr MqService::Member kTopic{"mq_topics", "topic", "Topic", "topic", &InstanceState::topics,
                                  &MqOptions::topics_per_instance};
constexpr MqService::Member kGroup{"mq_groups", "group_id", "GroupId", "group id", &InstanceState::groups,
                                  &MqOptions::groups_per_instance};

Error member_exists(const MqService::Member& m, std::string_view name) {
  return already_exists(std::string("EntityAlreadyExists.") + m.code,
                        "The " + std::string(m.noun) + " \"" + std::string(name) + "\" already exists.");
}
}  // namespace

Result<MqService::MemberRow> MqService::create_member(const Member& m, std::string_view account_id,
                                                      std::string_view instance_id, std::string_view name,
                                                      std::string_view remark) {
  auto st = state();
  const InstanceState* in = st->instance(instance_id);
  if ((in->*m.names).count(name)) return member_exists(m, name);
  if ((in->*m.names).size() >= opts_.*m.limit)
    return iam::err::limit(std::string("LimitExceeded.") + m.code,
                           "This instance already has the maximum number of " + std::string(m.noun) + "s.");
  MemberRow row{std::string(instance_id), std::string(name), std::string(remark), now_ms() / 1000};
  const std::string table = m.table, column = m.column;
  return write(account_id, [&]() -> Result<MemberRow> {
    auto& db = store_->db();
    store::Transaction tx(db);
    if (db.query("SELECT 1 FROM " + table + " WHERE instance_id = ? AND " + column + " = ?", instance_id, name)
            .step())
      return member_exists(m, name);
    db.run("INSERT INTO " + table + " VALUES (?, ?, ?, ?)", row.instance_id, row.name, row.remark, row.created_at);
    tx.commit();
    return row;
  });
}

Status MqService::delete_member(const Member& m, std::string_view account_id, std::string_view instance_id,
                                std::string_view name) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  const std::string table = m.table, column = m.column;
  return change_one(account_id,
                    not_exist(std::string("EntityNotExist.") + m.code,
                              "The " + std::string(m.noun) + " \"" + std::string(name) + "\" does not exist."),
                    "DELETE FROM " + table + " WHERE instance_id = ? AND " + column + " = ?", instance_id, name);
}

Result<std::vector<MqService::MemberRow>> MqService::list_members(const Member& m, std::string_view account_id,
                                                                  std::string_view instance_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  const std::string sql = std::string("SELECT instance_id, ") + m.column + ", remark, created_at FROM " + m.table +
                          " WHERE instance_id = ? ORDER BY " + m.column;
  return guarded([&]() -> Result<std::vector<MemberRow>> {
    std::lock_guard lk(store_->mutex());
    std::vector<MemberRow> out;
    auto q = store_->db().query(sql, instance_id);
    while (q.step()) out.push_back(MemberRow{q.text(0), q.text(1), q.text(2), q.int64(3)});
    return out;
  });
}

namespace {
template <class T>
Result<T> as(Result<MqService::MemberRow> r) {
  if (!r) return r.error();
  return T{std::move(r->instance_id), std::move(r->name), std::move(r->remark), r->created_at};
}
template <class T>
Result<std::vector<T>> as(Result<std::vector<MqService::MemberRow>> r) {
  if (!r) return r.error();
  std::vector<T> out;
  out.reserve(r->size());
  for (auto& m : *r) out.push_back(T{std::move(m.instance_id), std::move(m.name), std::move(m.remark), m.created_at});
  return out;
}
}  // namespace

Result<Topic> MqService::CreateTopic(std::string_view account_id, std::string_view instance_id, std::string_view topic,
                                     std::string_view remark) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (topic.empty() || topic.size() > 64 || !name_chars(topic, "_-"))
    return bad("Topic", "A parent topic must be 1 to 64 characters of letters, digits, '_' and '-': \"" +
                            std::string(topic.substr(0, 80)) + "\".");
  return as<Topic>(create_member(kTopic, account_id, instance_id, topic, remark));
}

Status MqService::DeleteTopic(std::string_view account_id, std::string_view instance_id, std::string_view topic) {
  return delete_member(kTopic, account_id, instance_id, topic);
}

Result<std::vector<Topic>> MqService::ListTopic(std::string_view account_id, std::string_view instance_id) {
  return as<Topic>(list_members(kTopic, account_id, instance_id));
}

Result<GroupId> MqService::CreateGroupId(std::string_view account_id, std::string_view instance_id,
                                         std::string_view group_id, std::string_view remark) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (!valid_group_id(group_id))
    return bad("GroupId", "A group id starts with \"GID_\" or \"GID-\" and has 7 to 64 characters of letters, "
                          "digits, '_' and '-': \"" + std::string(group_id.substr(0, 80)) + "\".");
  return as<GroupId>(create_member(kGroup, account_id, instance_id, group_id, remark));
}

Status MqService::DeleteGroupId(std::string_view account_id, std::string_view instance_id, std::string_view group_id) {
  return delete_member(kGroup, account_id, instance_id, group_id);
}

Result<std::vector<GroupId>> MqService::ListGroupId(std::string_view account_id, std::string_view instance_id) {
  return as<GroupId>(list_members(kGroup, account_id, instance_id));
}

// ---------------------------------------------------------------------------
// tags

Status MqService::TagResources(std::string_view account_id, std::string_view resource_type,
                               const std::vector<std::string>& ids, const std::vector<Tag>& tags) {
  if (resource_type != "instance" && resource_type != "INSTANCE")
    return bad("ResourceType", "The resource type must be \"instance\".");
  if (ids.empty() || tags.empty() || tags.size() > 20)
    return bad("Tag", "Give at least one resource and 1 to 20 tags.");
  for (const auto& id : ids)
    if (auto s = owned_instance(account_id, id); !s) return s;
  for (const auto& t : tags) {
    if (t.key.empty() || t.key.size() > 128 || t.value.size() > 128 || t.key.rfind("aliyun", 0) == 0 ||
        t.key.rfind("acs:", 0) == 0)
      return bad("Tag.Key", "A tag key is 1 to 128 characters and does not start with \"aliyun\" or \"acs:\".");
  }
  return write(account_id, [&]() -> Status {
    auto& db = store_->db();
    store::Transaction tx(db);
    for (const auto& id : ids) {
      for (const auto& t : tags)
        db.run("INSERT OR REPLACE INTO mq_tags VALUES (?, 'instance', ?, ?, ?)", account_id, id, t.key, t.value);
      auto c = db.query("SELECT COUNT(*) FROM mq_tags WHERE account_id = ? AND resource_type = 'instance' AND "
                        "resource_id = ?",
                        account_id, id);
      c.step();
      if (c.int64(0) > 20)
        return iam::err::limit("LimitExceeded.Tag", "A resource has at most 20 tags.");
    }
    tx.commit();
    return {};
  });
}

Status MqService::UntagResources(std::string_view account_id, std::string_view resource_type,
                                 const std::vector<std::string>& ids, const std::vector<std::string>& keys, bool all) {
  if (resource_type != "instance" && resource_type != "INSTANCE")
    return bad("ResourceType", "The resource type must be \"instance\".");
  for (const auto& id : ids)
    if (auto s = owned_instance(account_id, id); !s) return s;
  return write(account_id, [&]() -> Status {
    auto& db = store_->db();
    store::Transaction tx(db);
    for (const auto& id : ids) {
      if (all)
        db.run("DELETE FROM mq_tags WHERE account_id = ? AND resource_type = 'instance' AND resource_id = ?",
               account_id, id);
      else
        for (const auto& k : keys)
          db.run("DELETE FROM mq_tags WHERE account_id = ? AND resource_type = 'instance' AND resource_id = ? AND "
                 "tag_key = ?",
                 account_id, id, k);
    }
    tx.commit();
    return {};
  });
}

Result<std::vector<TagResource>> MqService::ListTagResources(std::string_view account_id,
                                                             std::string_view resource_type,
                                                             const std::vector<std::string>& ids,
                                                             const std::vector<TagFilter>& tags) {
  if (resource_type != "instance" && resource_type != "INSTANCE")
    return bad("ResourceType", "The resource type must be \"instance\".");
  return guarded([&]() -> Result<std::vector<TagResource>> {
    std::lock_guard lk(store_->mutex());
    std::vector<TagResource> all;
    auto q = store_->db().query(
        "SELECT resource_id, tag_key, tag_value FROM mq_tags WHERE account_id = ? AND resource_type = 'instance' "
        "ORDER BY resource_id, tag_key",
        account_id);
    while (q.step()) all.push_back(TagResource{"instance", q.text(0), Tag{q.text(1), q.text(2)}});
    std::vector<TagResource> out;
    for (const auto& t : all) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), t.resource_id) == ids.end()) continue;
      if (!tags.empty()) {
        // the resource must carry every filter tag
        bool has_all = true;
        for (const auto& f : tags) {
          bool has = false;
          for (const auto& u : all)
            if (u.resource_id == t.resource_id && u.tag.key == f.key && (f.value.empty() || u.tag.value == f.value))
              has = true;
          has_all &= has;
        }
        if (!has_all) continue;
      }
      out.push_back(t);
    }
    return out;
  });
}

// ---------------------------------------------------------------------------
// tokens

Result<std::string> MqService::ApplyToken(std::string_view account_id, std::string_view instance_id,
                                          const std::vector<std::string>& resources, std::string_view actions,
                                          int64_t expire_time_ms) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  bool read = false, write_ = false;
  if (actions == "R") read = true;
  else if (actions == "W") write_ = true;
  else if (actions == "R,W" || actions == "W,R") read = write_ = true;
  else return bad("Actions", "Actions must be R, W or R,W.");
  if (resources.empty() || resources.size() > opts_.token_max_resources)
    return bad("Resources", "Give 1 to " + std::to_string(opts_.token_max_resources) + " resources (topics).");
  for (const auto& r : resources)
    if (auto e = check_filter("Resources", r)) return *e;
  const int64_t now = now_ms();
  if (expire_time_ms < now + opts_.token_min_ttl_ms || expire_time_ms > now + opts_.token_max_ttl_ms)
    return bad("ExpireTime", "ExpireTime (epoch milliseconds) must be between 60 seconds and 30 days from now.");
  std::string token = store::random_string(48, store::kAlnum);
  json::array arr;
  for (const auto& r : resources) arr.emplace_back(r);
  const std::string hash = store::sha256_hex(token);
  // No snapshot rebuild and no generation bump: a new token changes nothing for
  // connected clients, and ApplyToken runs at API rates.
  return guarded([&]() -> Result<std::string> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    store::Transaction tx(db);
    db.run("INSERT INTO mq_tokens VALUES (?, ?, ?, ?, ?, ?, ?, 0)", hash, instance_id, account_id,
           json::serialize(arr), std::string(read && write_ ? "R,W" : read ? "R" : "W"), expire_time_ms, now);
    tx.commit();
    TokenInfo t;
    t.instance_id = instance_id;
    t.account_id = account_id;
    t.resources = resources;
    t.read = read;
    t.write = write_;
    t.expire_time_ms = expire_time_ms;
    t.created_at = now;
    std::unique_lock tl(tokens_mu_);
    tokens_[hash] = std::move(t);
    return token;
  });
}

std::optional<TokenInfo> MqService::find_token(std::string_view token) const {
  const std::string hash = store::sha256_hex(token);
  std::shared_lock lk(tokens_mu_);
  auto it = tokens_.find(hash);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

Result<TokenQuery> MqService::QueryToken(std::string_view account_id, std::string_view instance_id,
                                         std::string_view token) {
  auto t = find_token(token);
  if (!t || t->account_id != account_id || (!instance_id.empty() && t->instance_id != instance_id))
    return not_exist("EntityNotExist.Token", "The token does not exist (or belongs to another instance).");
  TokenQuery q;
  q.info = *t;
  q.valid = !t->revoked && t->expire_time_ms > now_ms();
  q.status = t->revoked ? "Revoked" : q.valid ? "Valid" : "Expired";
  return q;
}

Status MqService::RevokeToken(std::string_view account_id, std::string_view instance_id, std::string_view token) {
  auto t = find_token(token);
  if (!t || t->account_id != account_id || (!instance_id.empty() && t->instance_id != instance_id))
    return not_exist("EntityNotExist.Token", "The token does not exist (or belongs to another instance).");
  const std::string hash = store::sha256_hex(token);
  const int64_t cutoff = now_ms() - int64_t(7) * 24 * 3600 * 1000;
  auto r = guarded([&]() -> Status {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    store::Transaction tx(db);
    db.run("UPDATE mq_tokens SET revoked = 1 WHERE token_hash = ?", hash);
    // Tokens long expired are of no use any more: keep the table small.
    db.run("DELETE FROM mq_tokens WHERE expire_ms < ?", cutoff);
    tx.commit();
    std::unique_lock tl(tokens_mu_);
    if (auto it = tokens_.find(hash); it != tokens_.end()) it->second.revoked = true;
    std::erase_if(tokens_, [&](const auto& kv) { return kv.second.expire_time_ms < cutoff; });
    return {};
  });
  if (r) generation_.fetch_add(1, std::memory_order_acq_rel);  // connected holders re-check within 250 ms
  return r;
}

// ---------------------------------------------------------------------------
// device credentials

namespace {
Error bad_client_id(std::string_view cid) {
  return bad("ClientId", "The client id must be <GroupId>@@@<DeviceId>, at most 64 characters: \"" +
                             std::string(cid.substr(0, 80)) + "\".");
}
bool client_id_shape(std::string_view cid, size_t max) {
  auto g = group_of_client(cid);
  return !g.empty() && cid.size() <= max && cid.size() > g.size() + 3 && valid_group_id(g);
}
}  // namespace

Result<DeviceCredential> MqService::RegisterDeviceCredential(std::string_view account_id,
                                                             std::string_view instance_id,
                                                             std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (!client_id_shape(client_id, state()->instance(instance_id)->inst.settings.max_client_id_length))
    return bad_client_id(client_id);
  DeviceCredential d;
  d.instance_id = instance_id;
  d.client_id = client_id;
  d.device_access_key_id = "DC." + store::random_string(20, store::kAlnum);
  d.device_access_key_secret = store::random_string(30, store::kAlnum);
  d.create_time_ms = d.update_time_ms = now_ms();
  return write(account_id, [&]() -> Result<DeviceCredential> {
    auto& db = store_->db();
    store::Transaction tx(db);
    if (db.query("SELECT 1 FROM mq_device_credentials WHERE instance_id = ? AND client_id = ?", instance_id,
                 client_id)
            .step())
      return already_exists("EntityAlreadyExists.DeviceCredential",
                            "The client id \"" + std::string(client_id) +
                                "\" already has a device credential; use GetDeviceCredential or Refresh.");
    db.run("INSERT INTO mq_device_credentials VALUES (?, ?, ?, ?, ?, ?)", d.instance_id, d.client_id,
           d.device_access_key_id,
           store::Blob{store_->box().seal(d.device_access_key_secret, d.device_access_key_id)}, d.create_time_ms,
           d.update_time_ms);
    tx.commit();
    return d;
  });
}

Result<DeviceCredential> MqService::GetDeviceCredential(std::string_view account_id, std::string_view instance_id,
                                                        std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  auto st = state();
  auto* i = st->instance(instance_id);
  auto it = i->devices.find(std::string(client_id));
  if (it == i->devices.end())
    return not_exist("EntityNotExist.DeviceCredential",
                     "The client id \"" + std::string(client_id) + "\" has no device credential.");
  return it->second;
}

Result<DeviceCredential> MqService::RefreshDeviceCredential(std::string_view account_id, std::string_view instance_id,
                                                            std::string_view client_id) {
  auto cur = GetDeviceCredential(account_id, instance_id, client_id);
  if (!cur) return cur.error();
  DeviceCredential d = *cur;
  d.device_access_key_id = "DC." + store::random_string(20, store::kAlnum);
  d.device_access_key_secret = store::random_string(30, store::kAlnum);
  d.update_time_ms = now_ms();
  return write(account_id, [&]() -> Result<DeviceCredential> {
    auto& db = store_->db();
    store::Transaction tx(db);
    db.run("UPDATE mq_device_credentials SET key_id = ?, secret = ?, updated_ms = ? WHERE instance_id = ? AND "
           "client_id = ?",
           d.device_access_key_id,
           store::Blob{store_->box().seal(d.device_access_key_secret, d.device_access_key_id)}, d.update_time_ms,
           instance_id, client_id);
    tx.commit();
    return d;
  });
}

Status MqService::UnRegisterDeviceCredential(std::string_view account_id, std::string_view instance_id,
                                             std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  return write(account_id, [&]() -> Status {
    auto& db = store_->db();
    store::Transaction tx(db);
    if (db.run("DELETE FROM mq_device_credentials WHERE instance_id = ? AND client_id = ?", instance_id, client_id) ==
        0)
      return not_exist("EntityNotExist.DeviceCredential",
                       "The client id \"" + std::string(client_id) + "\" has no device credential.");
    tx.commit();
    return {};
  });
}

Result<std::vector<std::string>> MqService::ListDeviceCredentialClientId(std::string_view account_id,
                                                                         std::string_view instance_id,
                                                                         std::string_view group_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  auto st = state();
  std::vector<std::string> out;
  for (const auto& [cid, d] : st->instance(instance_id)->devices)
    if (group_id.empty() || group_of_client(cid) == group_id) out.push_back(cid);
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------
// custom authentication

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
  return write(account_id, [&]() -> Status {
    auto& db = store_->db();
    store::Transaction tx(db);
    if (db.query("SELECT 1 FROM mq_custom_identities WHERE instance_id = ? AND identity_type = ? AND identity = ?",
                 instance_id, to_string(t), identity)
            .step())
      return already_exists("EntityAlreadyExists.CustomAuthIdentity",
                            "The identity \"" + identity + "\" already exists; use UpdateCustomAuthIdentity.");
    db.run("INSERT INTO mq_custom_identities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", instance_id, to_string(t),
           identity, username, std::string(client_id),
           store::Blob{store_->box().seal(secret, identity_aad(instance_id, t, identity))}, to_string(m), now, now);
    tx.commit();
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
  return write(account_id, [&]() -> Status {
    auto& db = store_->db();
    store::Transaction tx(db);
    if (db.query("SELECT 1 FROM mq_custom_permissions WHERE instance_id = ? AND identity_type = ? AND identity = ? "
                 "AND topic = ?",
                 instance_id, to_string(t), identity, topic)
            .step())
      return already_exists("EntityAlreadyExists.CustomAuthPermission",
                            "A permission of \"" + std::string(identity) + "\" on \"" + std::string(topic) +
                                "\" exists; use UpdateCustomAuthPermission.");
    db.run("INSERT INTO mq_custom_permissions VALUES (?, ?, ?, ?, ?, ?, ?)", instance_id, to_string(t), identity,
           topic, to_string(a), to_string(e), now_ms());
    tx.commit();
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
  return write(account_id, [&]() -> Status {
    auto& db = store_->db();
    store::Transaction tx(db);
    db.run("INSERT OR IGNORE INTO mq_connect_black VALUES (?, ?, ?)", instance_id, client_id, now_ms());
    tx.commit();
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

// ---------------------------------------------------------------------------
// runtime

Result<SessionStatus> MqService::QuerySessionByClientId(std::string_view account_id, std::string_view instance_id,
                                                        std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  SessionStatus st;
  st.instance_id = instance_id;
  st.client_id = client_id;
  if (!broker_) return st;
  auto ns = broker_->find(instance_id);
  if (!ns) return st;
  auto sess = ns->find_session(client_id);
  if (!sess) return st;
  st.known = true;
  st.online = sess->online();
  st.filters = sess->subscription_filters();
  st.subscriptions = st.filters.size();
  st.subscription_list = sess->subscriptions_with_qos();
  std::tie(st.remote_address, st.clean_session) = sess->origin();
  st.queued = sess->queued();
  return st;
}

Result<std::vector<SessionStatus>> MqService::BatchQuerySessionByClientIds(std::string_view account_id,
                                                                           std::string_view instance_id,
                                                                           const std::vector<std::string>& ids) {
  if (ids.size() > 100) return bad("ClientIdList", "At most 100 client ids per call.");
  std::vector<SessionStatus> out;
  for (const auto& id : ids) {
    auto r = QuerySessionByClientId(account_id, instance_id, id);
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
}

Status MqService::CloseConnection(std::string_view account_id, std::string_view instance_id,
                                  std::string_view client_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  {
    std::lock_guard lk(close_mu_);
    close_requests_.insert(std::string(instance_id) + '\x1f' + std::string(client_id));
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);  // wakes the connection's access check
  return {};
}

bool MqService::take_close_request(std::string_view instance_id, std::string_view client_id) {
  std::lock_guard lk(close_mu_);
  if (close_requests_.empty()) return false;
  auto it = close_requests_.find(std::string(instance_id) + '\x1f' + std::string(client_id));
  if (it == close_requests_.end()) return false;
  close_requests_.erase(it);
  return true;
}

// ---------------------------------------------------------------------------
// traces

Result<std::vector<DeviceTrace>> MqService::QueryMqttTraceDevice(std::string_view account_id,
                                                                 std::string_view instance_id,
                                                                 std::string_view client_id, int64_t begin_ms,
                                                                 int64_t end_ms) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  return traces_.query_device(instance_id, client_id, begin_ms, end_ms);
}

Result<std::vector<MessageTrace>> MqService::QueryMqttTraceMessageOfClient(std::string_view account_id,
                                                                           std::string_view instance_id,
                                                                           std::string_view client_id,
                                                                           int64_t begin_ms, int64_t end_ms) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (client_id.empty()) return bad("ClientId", "The client id is required.");
  return traces_.query_messages(instance_id, {}, client_id, {}, begin_ms, end_ms);
}

Result<std::vector<MessageTrace>> MqService::QueryMqttTraceMessagePublish(std::string_view account_id,
                                                                          std::string_view instance_id,
                                                                          std::string_view msg_id, int64_t begin_ms,
                                                                          int64_t end_ms) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  return traces_.query_messages(instance_id, msg_id, {}, "pub", begin_ms, end_ms);
}

Result<std::vector<MessageTrace>> MqService::QueryMqttTraceMessageSubscribe(std::string_view account_id,
                                                                            std::string_view instance_id,
                                                                            std::string_view msg_id,
                                                                            std::string_view client_id,
                                                                            int64_t begin_ms, int64_t end_ms) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  return traces_.query_messages(instance_id, msg_id, client_id, "deliver", begin_ms, end_ms);
}

}  // namespace sluice::mq
