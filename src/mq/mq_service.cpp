// MqService's core: construction (migrations, change feed, first snapshot),
// what every family of operations shares (ownership check, parameter checks),
// and the wiring's hooks. The families: mq_instances, mq_tags,
// mq_topics_groups, mq_tokens, mq_devices, mq_custom_auth, mq_sessions,
// mq_traces; the snapshot: mq_snapshot.
#include "mq/mq_service.hpp"

#include <chrono>

#include "mq/internal.hpp"
#include "mq/schema.hpp"

namespace sluice::mq {

using namespace detail;

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

namespace detail {

Error bad(std::string field, std::string msg) { return invalid("InvalidParameter." + field, std::move(msg)); }

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

}  // namespace detail

namespace {
int64_t system_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

MqService::MqService(std::shared_ptr<store::Store> store, iam::IamService& iam, MqOptions opts, Clock clock)
    : store_(std::move(store)), iam_(iam), opts_(std::move(opts)), clock_(clock ? clock : &system_ms),
      traces_(opts_.traces) {
  std::lock_guard lk(store_->mutex());
  store::migrate(store_->db(), schema());  // throws DbError, also for a schema newer than this binary
  changes_ = store_->changes("mq");        // any other connection's commit
  reload_locked();
}

MqService::~MqService() = default;

void MqService::on_snapshot(SnapshotListener listener) {
  std::lock_guard lk(store_->mutex());
  if (!listener) return;
  if (auto s = state()) listener(*s);
  snapshot_listeners_.push_back(std::move(listener));
}

Status MqService::owned_instance(std::string_view account_id, std::string_view instance_id) const {
  auto s = state();
  auto* i = s->instance(instance_id);
  if (!i || i->inst.account_id != account_id)
    return not_exist("EntityNotExist.Instance",
                     "The instance \"" + std::string(instance_id) + "\" does not exist in this account.");
  return {};
}

}  // namespace sluice::mq
