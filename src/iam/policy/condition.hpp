#pragma once
// Evaluation of a statement's Condition block against a request's Context.
#include "iam/policy/document.hpp"

namespace sluice::iam::policy {

// Operators and keys AND-ed, values under a key OR-ed (for Not* operators: the
// request value must match none of them), absent key = no match. `rg` backs no key:
// every key comes from the Context the caller built.
bool conditions_hold(const std::vector<Condition>& conds, const Context* ctx);

}  // namespace sluice::iam::policy
