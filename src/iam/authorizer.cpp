#include "iam/authorizer.hpp"

#include <mutex>

namespace sluice::iam {

const char* to_string(policy::Effect e) {
  switch (e) {
    case policy::Effect::Allow: return "ALLOW";
    case policy::Effect::Deny: return "DENY";
    case policy::Effect::ImplicitDeny: return "DENY";
  }
  return "DENY";
}

namespace {
// The account field of an ARN "acs:<service>:<region>:<account>:<relative>"; "" if none.
std::string_view arn_account(std::string_view arn) {
  if (!arn.starts_with("acs:")) return {};
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  size_t end = arn.find(':', pos);
  if (end == std::string_view::npos) return {};
  return arn.substr(pos, end - pos);
}

}  // namespace

std::string Authorizer::Verdict::explain() const {
  std::string head = std::string(to_string(effect)) + ": ";
  switch (reason) {
    case Reason::Root: return head + "the root account is allowed everything inside its own account";
    case Reason::CrossAccount: return head + detail;
    case Reason::NoPrincipal: return head + detail;
    case Reason::SessionExpired: return head + "the STS session has expired; assume the role again";
    case Reason::SessionPolicy:
      return head + "the role allows it but the session policy does not (" +
             (set ? decision.explain(set->grants()) : std::string("no session policy")) + ")";
    case Reason::Policy: break;
  }
  if (!set) return head + "no grants";
  return head + decision.explain(set->grants());
}

std::shared_ptr<const Authorizer::Entry> Authorizer::build(const Principal& p, uint64_t generation) {
  builds_.fetch_add(1, std::memory_order_relaxed);
  auto e = std::make_shared<Entry>();
  e->built = generation;
  e->checked.store(generation, std::memory_order_relaxed);
  Result<std::vector<policy::Grant>> grants = std::vector<policy::Grant>{};
  switch (p.kind) {
    case Principal::Kind::Root:
      break;
    case Principal::Kind::User:
      grants = iam_.grants_for_user(p.account_id, p.name);
      break;
    case Principal::Kind::RoleSession: {
      auto s = iam_.get_sts_session(p.access_key_id);
      if (!s) {
        e->missing = "the STS session " + p.access_key_id + " does not exist";
        break;
      }
      e->expires_at = s->expires_at;
      grants = iam_.grants_for_role(s->account_id, s->role_name);
      if (s->session_policy) {
        auto doc = policy::parse(*s->session_policy, static_cast<size_t>(-1));
        policy::Grant g;
        g.policy_name = "session-policy";
        g.policy_type = "Session";
        g.version_id = "v1";
        g.via = "session";
        g.doc = doc.doc;
        std::vector<policy::Grant> v;
        if (g.doc) v.push_back(std::move(g));
        // A session policy that no longer parses grants nothing: deny.
        e->session = policy::CompiledSet::compile(std::move(v));
      }
      break;
    }
  }
  if (!grants) {
    e->missing = p.arn() + " does not exist (" + grants.error().message + ")";
    grants = std::vector<policy::Grant>{};
  }
  e->set = policy::CompiledSet::compile(std::move(*grants));
  return e;
}

bool Authorizer::current(const Entry& e, uint64_t generation, std::string_view account_id) const {
  if (e.checked.load(std::memory_order_acquire) == generation) return true;
  if (iam_.account_generation(account_id) > e.built) return false;
  e.checked.store(generation, std::memory_order_release);
  return true;
}

std::shared_ptr<const Authorizer::Entry> Authorizer::entry_for(const Principal& p) {
  const uint64_t gen = iam_.generation();
  {
    std::shared_lock lk(mu_);
    auto it = cache_.find(p.key);
    if (it != cache_.end() && current(*it->second, gen, p.account_id)) return it->second;
  }
  // Read the generation before reading IAM state: a write that commits meanwhile
  // bumps past `gen`, so this entry is rebuilt on next use rather than kept stale.
  auto e = build(p, gen);
  std::unique_lock lk(mu_);
  if (cache_.size() > 100000) cache_.clear();
  auto& slot = cache_[p.key];
  if (!slot || slot->built <= gen) slot = e;
  return e;
}

std::shared_ptr<const policy::CompiledSet> Authorizer::compiled_for(const Principal& p) {
  if (p.kind == Principal::Kind::Root) return nullptr;
  return entry_for(p)->set;
}

Authorizer::Verdict Authorizer::decide(const Principal& p, std::string_view action,
                                       std::span<const std::string> resources, std::string_view resource_group_id,
                                       const policy::Context* context, DecideOptions opts) {
  Verdict v;
  if (resources.empty()) {  // a caller bug; never allow a request that names nothing
    v.reason = Reason::NoPrincipal;
    v.detail = "the request names no resource";
    return v;
  }
  if (!opts.allow_cross_account) {
    for (const auto& r : resources) {
      std::string_view acct = arn_account(r);
      if (!acct.empty() && acct != "*" && acct != p.account_id) {
        v.effect = policy::Effect::Deny;
        v.reason = Reason::CrossAccount;
        v.detail = "the resource " + r + " belongs to account " + std::string(acct) + ", not to " + p.account_id +
                   " of the caller; access across accounts is never allowed";
        return v;
      }
    }
  }
  if (p.kind == Principal::Kind::Root) {
    v.effect = policy::Effect::Allow;
    v.reason = Reason::Root;
    return v;
  }
  policy::Request req{action, resources, resource_group_id, context};
  const uint64_t gen = iam_.generation();
  {
    // Fast path: a current entry for a plain user — evaluate under the shared lock.
    std::shared_lock lk(mu_);
    auto it = cache_.find(p.key);
    if (it != cache_.end() && current(*it->second, gen, p.account_id) && it->second->missing.empty() &&
        !it->second->session &&
        !it->second->expires_at) {
      v.decision = it->second->set->evaluate(req);
      v.effect = v.decision.effect;
      v.set = it->second->set;
      return v;
    }
  }
  auto e = entry_for(p);
  if (!e->missing.empty()) {
    v.effect = policy::Effect::ImplicitDeny;
    v.reason = Reason::NoPrincipal;
    v.detail = e->missing;
    return v;
  }
  if (e->expires_at && iam_.now() >= e->expires_at) {
    v.effect = policy::Effect::Deny;
    v.reason = Reason::SessionExpired;
    return v;
  }
  v.decision = e->set->evaluate(req);
  v.effect = v.decision.effect;
  v.set = e->set;
  if (e->session && v.effect != policy::Effect::Deny) {
    policy::Decision s = e->session->evaluate(req);
    if (s.effect == policy::Effect::Deny || (v.effect == policy::Effect::Allow && s.effect != policy::Effect::Allow)) {
      v.effect = s.effect == policy::Effect::Deny ? policy::Effect::Deny : policy::Effect::ImplicitDeny;
      v.reason = Reason::SessionPolicy;
      v.decision = std::move(s);
      v.set = e->session;
    }
  }
  return v;
}

Authorizer::Verdict Authorizer::decide_on(const Principal& p, std::string_view action,
                                          std::span<const std::string> resources, std::string_view resource_type,
                                          std::string_view resource_id, const policy::Context* context) {
  (void)iam_.generation();  // picks up resource moves made by another process
  std::string rg = iam_.resource_group_of(p.account_id, resource_type, resource_id);
  return decide(p, action, resources, rg, context);
}

size_t Authorizer::cached_principals() const {
  std::shared_lock lk(mu_);
  return cache_.size();
}

void Authorizer::clear() {
  std::unique_lock lk(mu_);
  cache_.clear();
}

}  // namespace sluice::iam
