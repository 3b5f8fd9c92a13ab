// Context look-ups for callers; the evaluator walks Context::all() directly to
// avoid building a vector per decision.
#include "iam/policy/policy.hpp"

namespace sluice::iam::policy {

std::vector<std::string_view> Context::get(std::string_view key) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : values_)
    if (k == key) out.push_back(v);
  return out;
}

}  // namespace sluice::iam::policy
