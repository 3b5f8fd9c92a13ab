// Tags of instances (resource type "instance"): tag, untag, list with filters;
// and of groups (SetGroupTags / GroupTags). Reads come from the MQ snapshot
// once the change feed is drained (mq_snapshot.cpp), else from the store.
#include <algorithm>
#include "mq/internal.hpp"

namespace sluice::mq {

using namespace detail;

Status MqService::TagResources(std::string_view account_id, std::string_view resource_type,
                               const std::vector<std::string>& ids, const std::vector<Tag>& tags) {
  if (resource_type != "instance" && resource_type != "INSTANCE")
    return bad("ResourceType", "The resource type must be \"instance\".");
  if (ids.empty() || tags.empty() || tags.size() > 20)
    return bad("Tag", "Give at least one resource and 1 to 20 tags.");
  for (const auto& id : ids)
    if (auto s = owned_instance(account_id, id); !s) return s;
  if (auto s = CheckTags(tags); !s) return s;
  return write(account_id, [&](store::Db& db) -> Status {
    for (const auto& id : ids) {
      for (const auto& t : tags)
        db.run("INSERT INTO mq_tags VALUES (?, 'instance', ?, ?, ?) ON CONFLICT(account_id, resource_type, "
               "resource_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
               account_id, id, t.key, t.value);
      auto c = db.query("SELECT COUNT(*) FROM mq_tags WHERE account_id = ? AND resource_type = 'instance' AND "
                        "resource_id = ?",
                        account_id, id);
      c.step();
      if (c.int64(0) > 20)
        return iam::err::limit("LimitExceeded.Tag", "A resource has at most 20 tags.");
    }
    return {};
  });
}

Status MqService::UntagResources(std::string_view account_id, std::string_view resource_type,
                                 const std::vector<std::string>& ids, const std::vector<std::string>& keys, bool all) {
  if (resource_type != "instance" && resource_type != "INSTANCE")
    return bad("ResourceType", "The resource type must be \"instance\".");
  for (const auto& id : ids)
    if (auto s = owned_instance(account_id, id); !s) return s;
  return write(account_id, [&](store::Db& db) -> Status {
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
    std::vector<TagResource> all;
    if (auto st = current_state(account_id)) {
      // From the snapshot (no round trip; see list_members), in the store's order.
      for (const auto& [id, in] : st->instances)
        if (in.inst.account_id == account_id)
          for (const auto& t : in.tags) all.push_back(TagResource{"instance", id, t});
      std::sort(all.begin(), all.end(), [](const TagResource& a, const TagResource& b) {
        return a.resource_id != b.resource_id ? a.resource_id < b.resource_id : a.tag.key < b.tag.key;
      });
    } else {
      std::lock_guard lk(store_->mutex());
      auto q = store_->db().query(
          "SELECT resource_id, tag_key, tag_value FROM mq_tags WHERE account_id = ? AND resource_type = 'instance' "
          "ORDER BY resource_id, tag_key",
          account_id);
      while (q.step()) all.push_back(TagResource{"instance", q.text(0), Tag{q.text(1), q.text(2)}});
    }
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

Status MqService::CheckTags(const std::vector<Tag>& tags) const {
  if (tags.size() > 20) return bad("Tags", "A resource has at most 20 tags.");
  for (const auto& t : tags) {
    if (t.key.empty() || t.key.size() > 128 || t.value.size() > 128 || t.key.rfind("aliyun", 0) == 0 ||
        t.key.rfind("acs:", 0) == 0)
      return bad("Tag.Key", "A tag key is 1 to 128 characters and does not start with \"aliyun\" or \"acs:\".");
  }
  return {};
}

Status MqService::SetGroupTags(std::string_view account_id, std::string_view instance_id, std::string_view group_id,
                               const std::vector<Tag>& tags) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  if (auto s = CheckTags(tags); !s) return s;
  const std::string rid = std::string(instance_id) + "/" + std::string(group_id);
  return write(account_id, [&](store::Db& db) -> Status {
    db.run("DELETE FROM mq_tags WHERE account_id = ? AND resource_type = 'group' AND resource_id = ?", account_id, rid);
    for (const auto& t : tags)
      db.run("INSERT INTO mq_tags VALUES (?, 'group', ?, ?, ?) ON CONFLICT(account_id, resource_type, resource_id, "
             "tag_key) DO UPDATE SET tag_value = excluded.tag_value",
             account_id, rid, t.key, t.value);
    return {};
  });
}

Result<std::map<std::string, std::vector<Tag>>> MqService::GroupTags(std::string_view account_id,
                                                                     std::string_view instance_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (auto st = current_state(account_id))
    if (const InstanceState* in = st->instance(instance_id))
      return std::map<std::string, std::vector<Tag>>(in->group_tags.begin(), in->group_tags.end());
  return guarded([&]() -> Result<std::map<std::string, std::vector<Tag>>> {
    std::lock_guard lk(store_->mutex());
    std::map<std::string, std::vector<Tag>> out;
    const std::string prefix = std::string(instance_id) + "/";
    auto q = store_->db().query(
        "SELECT resource_id, tag_key, tag_value FROM mq_tags WHERE account_id = ? AND resource_type = 'group' "
        "ORDER BY resource_id, tag_key",
        account_id);
    while (q.step()) {
      std::string rid = q.text(0);
      if (rid.rfind(prefix, 0) != 0) continue;
      out[rid.substr(prefix.size())].push_back(Tag{q.text(1), q.text(2)});
    }
    return out;
  });
}

}  // namespace sluice::mq
