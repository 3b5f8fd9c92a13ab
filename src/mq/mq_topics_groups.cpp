// Parent topics and group ids of an instance.
#include <set>

#include "mq/internal.hpp"
#include "mq/signature.hpp"

namespace sluice::mq {

using namespace detail;

namespace {
bool name_chars(std::string_view s, std::string_view extra) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          extra.find(c) != std::string_view::npos))
      return false;
  return true;
}
}  // namespace

// Parent topics and group ids are the same kind of thing: a name an instance
// holds, with a remark and a creation time, in a table of its own. One set of
// create / delete / list serves both; only the names and the validation differ.
struct MqService::Member {
  const char* table;   // mq_topics | mq_groups
  const char* column;  // its name column
  const char* code;    // in error codes: EntityAlreadyExists.<code>
  const char* noun;    // in messages
  std::map<std::string, MemberInfo, std::less<>> InstanceState::*names;
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
  return write(account_id, [&](store::Db& db) -> Result<MemberRow> {
    if (db.query("SELECT 1 FROM " + table + " WHERE instance_id = ? AND " + column + " = ?", instance_id, name)
            .step())
      return member_exists(m, name);
    // Counted again in the (serializable) transaction: the snapshot may be a
    // notification behind a write on another node of a shared store.
    auto count = db.query("SELECT COUNT(*) FROM " + table + " WHERE instance_id = ?", instance_id);
    if (count.step() && count.int64(0) >=
        static_cast<int64_t>(opts_.*m.limit))
      return iam::err::limit(std::string("LimitExceeded.") + m.code,
                             "This instance already has the maximum number of " + std::string(m.noun) + "s.");
    db.run("INSERT INTO " + table + " VALUES (?, ?, ?, ?)", row.instance_id, row.name, row.remark, row.created_at);
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
  auto missing = [&] {
    return not_exist("EntityNotExist.Instance",
                     "The instance \"" + std::string(instance_id) + "\" does not exist in this account.");
  };
  // From the snapshot, once the change feed has been drained: no round trip to
  // a shared store (PostgreSQL), and a commit another node answered before
  // this call is in it (docs/control-store.md, "Reads from the snapshot").
  if (auto st = current_state(account_id)) {
    const InstanceState* in = st->instance(instance_id);
    if (!in || in->inst.account_id != account_id) return missing();
    std::vector<MemberRow> out;
    out.reserve((in->*m.names).size());
    for (const auto& [name, info] : in->*m.names)
      out.push_back(MemberRow{in->inst.id, name, info.remark, info.created_at});
    return out;
  }
  // Through the store, the instance's owner included (the snapshot may be
  // behind on it too): one query, one row with NULLs for an instance with none.
  const std::string sql = std::string("SELECT i.account_id, m.") + m.column + ", m.remark, m.created_at " +
                          "FROM mq_instances i LEFT JOIN " + m.table + " m ON m.instance_id = i.id WHERE i.id = ? " +
                          "ORDER BY m." + m.column;
  return guarded([&]() -> Result<std::vector<MemberRow>> {
    std::lock_guard lk(store_->mutex());
    std::vector<MemberRow> out;
    bool owned = false;
    auto q = store_->db().query(sql, instance_id);
    while (q.step()) {
      if (q.text(0) != account_id) break;
      owned = true;
      if (!q.is_null(1)) out.push_back(MemberRow{std::string(instance_id), q.text(1), q.text(2), q.int64(3)});
    }
    if (!owned) return missing();
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

}  // namespace sluice::mq
