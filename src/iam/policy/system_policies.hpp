#pragma once
// The system policies Sluice ships (read-only): names, descriptions, the high-risk
// flag the console shows, and their parsed documents. The source of truth is
// system_policies.json beside this file (a copy of the product's reference list);
// system_policies_data.cpp embeds it (a test keeps the two identical).
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "iam/policy/policy.hpp"

namespace sluice::iam::policy {

struct SystemPolicy {
  std::string name;          // "AliyunMQPubOnlyAccess"
  std::string description;
  bool high_risk = false;    // AdministratorAccess, AliyunRAMFullAccess
  std::string document;      // the document text, compact JSON
  std::shared_ptr<const Document> doc;
};

// All system policies, in the order of the reference file. Parsed once, on first use.
std::span<const SystemPolicy> system_policies();
// nullptr if there is no system policy of that name (case-sensitive).
const SystemPolicy* find_system_policy(std::string_view name);
// The embedded JSON text (for the drift test and for tools).
std::string_view system_policies_json();

}  // namespace sluice::iam::policy
