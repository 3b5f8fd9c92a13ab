// Instances: create, describe, list (optionally by tag), update, release.
// An instance is a resource of the account's resource groups (SPEC §3).
#include <algorithm>
#include <set>

#include "iam/iam_service.hpp"
#include "mq/editions.hpp"
#include "mq/internal.hpp"
#include "mq/settings.hpp"

namespace sluice::mq {

using namespace detail;

namespace {
std::optional<Error> check_settings(const InstanceSettings& s) {
  std::string field;
  if (auto m = check_settings_range(s, &field)) return bad(field, *m);
  return std::nullopt;
}

// Applies settings given by name and text; each becomes an override.
std::optional<Error> apply_sets(InstanceSettings& s, std::vector<std::string>& overrides, const SettingValues& sets) {
  std::vector<std::string> names;
  for (const auto& [name, value] : sets) {
    if (auto m = set_setting(s, name, value)) return bad(name, *m);
    names.emplace_back(find_setting(name)->name);
  }
  overrides = merge_names(std::move(overrides), names);
  return std::nullopt;
}
}  // namespace

Result<Instance> MqService::CreateInstance(std::string_view account_id, const InstanceSpec& spec,
                                           const SettingValues& sets) {
  if (spec.name.empty() || spec.name.size() > 64)
    return bad("InstanceName", "The instance name must be 1 to 64 characters.");
  std::string type = spec.type.empty() ? "professional" : spec.type;
  if (!known_edition(type))
    return bad("InstanceType", "The instance type must be basic, professional, platinum or serverless.");
  const InstanceSettings defaults = edition_defaults(type, opts_.instance_defaults);
  InstanceSettings settings = spec.settings.value_or(defaults);
  std::vector<std::string> overrides = spec.settings ? differing_settings(settings, defaults) : std::vector<std::string>{};
  if (auto e = apply_sets(settings, overrides, sets)) return *e;
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
  in.overrides = std::move(overrides);
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
  auto r = write(account_id, [&](store::Db& db) -> Result<Instance> {
    // Counted again in the (serializable) transaction: the snapshot above may
    // be a notification behind a write on another node of a shared store.
    auto count = db.query("SELECT COUNT(*) FROM mq_instances WHERE account_id = ?", account_id);
    if (count.step() && count.int64(0) >=
        static_cast<int64_t>(opts_.instances_per_account))
      return iam::err::limit("LimitExceeded.Instance", "This account already has the maximum number of instances.");
    db.run("INSERT INTO mq_instances(id, account_id, name, type, status, remark, settings, created_at, updated_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
           in.id, in.account_id, in.name, in.type, in.status, in.remark, settings_to_json(in.settings, in.overrides),
           in.created_at, in.updated_at);
    return in;
  });
  if (!r) (void)iam_.unregister_resource(account_id, "instance", in.id);
  return r;
}

InstanceSettings MqService::edition_defaults_of(const Instance& i) const {
  return edition_defaults(i.type, opts_.instance_defaults);
}

std::vector<std::string> MqService::overrides_of(const Instance& i) const {
  return merge_names(i.overrides, differing_settings(i.settings, edition_defaults_of(i)));
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
  InstanceChange ch;
  ch.name = std::move(name);
  ch.remark = std::move(remark);
  if (settings) {
    if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
    const InstanceSettings cur = state()->instance(instance_id)->inst.settings;
    for (const auto& n : differing_settings(*settings, cur)) {
      const Setting* st = find_setting(n);
      ch.sets.emplace_back(n, setting_text(*settings, *st));
    }
    if (auto e = check_settings(*settings)) return *e;
  }
  return UpdateInstance(account_id, instance_id, ch);
}

Result<Instance> MqService::UpdateInstance(std::string_view account_id, std::string_view instance_id,
                                           const InstanceChange& ch) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (ch.name && (ch.name->empty() || ch.name->size() > 64))
    return bad("InstanceName", "The instance name must be 1 to 64 characters.");
  if (ch.type && !known_edition(*ch.type))
    return bad("InstanceType", "The instance type must be basic, professional, platinum or serverless.");
  Instance in = state()->instance(instance_id)->inst;
  // What was set explicitly, including a row written before overrides were
  // recorded: whatever differs from its edition's defaults.
  std::vector<std::string> overrides = overrides_of(in);
  for (const auto& r : ch.resets) {
    if (r == "all" || r == "All") {
      overrides.clear();
      continue;
    }
    const Setting* st = find_setting(r);
    if (!st) return bad("ResetSettings", "There is no instance setting \"" + r + "\".");
    std::erase(overrides, std::string(st->name));
  }
  if (ch.type) in.type = *ch.type;
  InstanceSettings settings = with_settings(edition_defaults_of(in), in.settings, overrides);
  if (auto e = apply_sets(settings, overrides, ch.sets)) return *e;
  if (auto e = check_settings(settings)) return *e;
  if (ch.name) in.name = *ch.name;
  if (ch.remark) in.remark = *ch.remark;
  in.settings = settings;
  in.overrides = std::move(overrides);
  in.updated_at = now_ms() / 1000;
  return write(account_id, [&](store::Db& db) -> Result<Instance> {
    db.run("UPDATE mq_instances SET name = ?, type = ?, remark = ?, settings = ?, updated_at = ? WHERE id = ?",
           in.name, in.type, in.remark, settings_to_json(in.settings, in.overrides), in.updated_at, in.id);
    return in;
  });
}

Status MqService::ReleaseInstance(std::string_view account_id, std::string_view instance_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  auto r = write(account_id, [&](store::Db& db) -> Status {
    db.run("DELETE FROM mq_tags WHERE account_id = ? AND resource_type = 'instance' AND resource_id = ?", account_id,
           instance_id);
    db.run("DELETE FROM mq_tags WHERE account_id = ? AND resource_type = 'group' AND resource_id LIKE ?",
           account_id, std::string(instance_id) + "/%");  // instance ids are [a-z0-9-]: no LIKE wildcards
    db.run("DELETE FROM mq_instances WHERE id = ?", instance_id);  // cascades to topics, groups, tokens, ...
    return {};
  });
  if (!r) return r;
  (void)iam_.unregister_resource(account_id, "instance", instance_id);
  traces_.drop_instance(instance_id);
  return {};
}

}  // namespace sluice::mq
