// The unindexed decision: every statement in (grant, statement) order. Used for
// a freshly compiled small set (so compile + one decision stays cheap) and, with
// Indexing::Never, by the tests that check it against the index.
#include "iam/policy/condition.hpp"
#include "iam/policy/index.hpp"

namespace sluice::iam::policy {

Decision decision_for(const IndexData& ix, Effect effect, uint32_t ord) {
  const StmtRef& s = ix.stmts[ord];
  Decision d;
  d.effect = effect;
  d.grant_index = static_cast<int>(s.grant);
  d.statement_index = static_cast<int>(s.index);
  d.sid = s.st->sid;
  return d;
}

Decision scan_decide(const IndexData& ix, const Request& r) {
  constexpr uint32_t kNone = UINT32_MAX;
  uint32_t allow = kNone;
  const uint32_t n = static_cast<uint32_t>(ix.stmts.size());
  const uint64_t bit = uint64_t{1} << (action_hash(r.action) >> 58);
  for (uint32_t ord = 0; ord < n; ++ord) {
    const StmtRef& s = ix.stmts[ord];
    const bool deny = s.st->effect == Effect::Deny;
    if (!deny && allow != kNone) continue;  // only a Deny can still change the outcome
    if (!s.scope->covers(r.resource_group_id)) continue;
    const Statement& st = *s.st;
    // Most statements name other actions: the bloom rules them out without a compare.
    if (st.has_action_aids && !st.not_action && !st.wild_actions && !(st.action_bloom & bit)) continue;
    if (!action_matches(st, r.action)) continue;
    if (!resource_matches_any(*s.st, r.resources)) continue;
    if (!s.st->conditions.empty() && !conditions_hold(s.st->conditions, r.context)) continue;
    if (deny) return decision_for(ix, Effect::Deny, ord);  // the first Deny decides
    allow = ord;
  }
  return allow == kNone ? Decision{} : decision_for(ix, Effect::Allow, allow);
}

}  // namespace sluice::iam::policy
