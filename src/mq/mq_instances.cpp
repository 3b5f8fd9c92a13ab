// Instances: create, describe, list (optionally by tag), update, release.
// An instance is a resource of the account's resource groups (SPEC §3).
#include <algorithm>
#include <set>

#include "iam/iam_service.hpp"
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
}  // namespace

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
  auto r = write(account_id, [&](store::Db& db) -> Result<Instance> {
    // Counted again in the (serializable) transaction: the snapshot above may
    // be a notification behind a write on another node of a shared store.
    auto count = db.query("SELECT COUNT(*) FROM mq_instances WHERE account_id = ?", account_id);
    if (count.step() && count.int64(0) >=
        static_cast<int64_t>(opts_.instances_per_account))
      return iam::err::limit("LimitExceeded.Instance", "This account already has the maximum number of instances.");
    db.run("INSERT INTO mq_instances(id, account_id, name, type, status, remark, settings, created_at, updated_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
           in.id, in.account_id, in.name, in.type, in.status, in.remark, settings_to_json(in.settings), in.created_at,
           in.updated_at);
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
  return write(account_id, [&](store::Db& db) -> Result<Instance> {
    db.run("UPDATE mq_instances SET name = ?, remark = ?, settings = ?, updated_at = ? WHERE id = ?", in.name,
           in.remark, settings_to_json(in.settings), in.updated_at, in.id);
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
