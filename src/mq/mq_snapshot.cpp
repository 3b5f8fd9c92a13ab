// The in-memory snapshot of every instance (MqState), rebuilt from the store
// after each committed change and when the change feed reports another
// writer's commit; the access layer reads it without touching the database.
#include <boost/json.hpp>
#include <utility>

#include "common/log.hpp"
#include "mq/internal.hpp"
#include "mq/sealed_config.hpp"
#include "mq/settings.hpp"

namespace sluice::mq {

using namespace detail;

namespace json = boost::json;

std::shared_ptr<const MqState> MqService::state() const {
  std::lock_guard lk(state_mu_);
  return state_;
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
                         settings_from_json(q.text(6)), q.int64(7), q.int64(8), overrides_from_json(q.text(6))};
      s->instances.emplace(st.inst.id, std::move(st));
    }
  }
  auto inst = [&](const std::string& id) -> InstanceState* {
    auto it = s->instances.find(id);
    return it == s->instances.end() ? nullptr : &it->second;
  };
  {
    auto q = db.query("SELECT instance_id, topic, remark, created_at FROM mq_topics");
    while (q.step())
      if (auto* i = inst(q.text(0))) i->topics.emplace(q.text(1), MemberInfo{q.text(2), q.int64(3)});
  }
  {
    auto q = db.query("SELECT instance_id, group_id, remark, created_at FROM mq_groups");
    while (q.step())
      if (auto* i = inst(q.text(0))) i->groups.emplace(q.text(1), MemberInfo{q.text(2), q.int64(3)});
  }
  {
    // Instance tags by instance id; group tags by "<instance id>/<group id>".
    auto q = db.query("SELECT account_id, resource_type, resource_id, tag_key, tag_value FROM mq_tags "
                      "ORDER BY resource_id, tag_key");
    while (q.step()) {
      const std::string type = q.text(1), rid = q.text(2);
      const bool group = type == "group";
      const size_t slash = group ? rid.find('/') : std::string::npos;
      if (group && slash == std::string::npos) continue;
      auto* i = inst(group ? rid.substr(0, slash) : rid);
      if (!i || i->inst.account_id != q.text(0)) continue;
      Tag t{q.text(3), q.text(4)};
      if (group)
        i->group_tags[rid.substr(slash + 1)].push_back(std::move(t));
      else if (type == "instance")
        i->tags.push_back(std::move(t));
    }
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
  load_certs_locked(*s);
  {
    auto q = db.query("SELECT instance_id, name, rule_type, source_topic, target_type, target_config, created_ms, "
                      "updated_ms FROM mq_rules ORDER BY instance_id, name");
    while (q.step()) {
      auto* i = inst(q.text(0));
      if (!i) continue;
      auto config = open_target_config(box, q.text(0), q.text(1), q.text(5));
      if (!config) {
        log::error("mq: rule {} of instance {} cannot be decrypted with this master key; skipped", q.text(1), q.text(0));
        continue;
      }
      i->rules.push_back(Rule{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), *config, q.int64(6), q.int64(7)});
    }
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
  {
    // Whatever the feed had heard of is in it (heard under the store mutex, which is held).
    std::lock_guard lk(stale_mu_);
    stale_all_ = false;
    stale_.clear();
  }
  for (const auto& l : snapshot_listeners_) l(*cs);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

bool MqService::changes_due() { return changes_->due(); }

int64_t MqService::store_lost_since_ms() const {
  const int64_t a = store_->db().lost_since_ms(), b = changes_->lost_since_ms();
  return a == 0 ? b : b == 0 ? a : std::min(a, b);
}

void MqService::poll_external_changes() {
  // Any account's change rebuilds everything: once per poll is enough.
  bool reloaded = false;
  changes_->poll([&](const store::Change&) {
    if (!std::exchange(reloaded, true)) reload_locked();
  });
  if (reloaded || !stale_pending()) return;
  // A read's catch_up heard a change and left the rebuild to this poll.
  std::unique_lock lk(store_->mutex(), std::try_to_lock);
  if (!lk.owns_lock() || !stale_pending()) return;  // a writer holds the store (and rebuilds): next time
  try {
    reload_locked();
  } catch (const std::exception& e) {
    log::debug("mq: rebuilding the snapshot failed ({}); next poll", e.what());
  }
}

bool MqService::stale_pending() const {
  std::lock_guard lk(stale_mu_);
  return stale_all_ || !stale_.empty();
}

std::shared_ptr<const MqState> MqService::current_state(std::string_view account_id) {
  // What the feed hears here is only noted: rebuilding the whole snapshot on a
  // read would cost one rebuild per read while another node writes (an
  // ApplyToken there notifies); the next poll rebuilds once, and meanwhile the
  // accounts heard of read through the store.
  const bool current = changes_->catch_up([&](const store::Change& c) {
    std::lock_guard lk(stale_mu_);
    if (c.account_id.empty())
      stale_all_ = true;
    else
      stale_.insert(c.account_id);
  });
  if (!current) return nullptr;
  {
    std::lock_guard lk(stale_mu_);
    if (stale_all_ || stale_.count(account_id)) return nullptr;
  }
  return state();
}

}  // namespace sluice::mq
