// Ram 2015-05-01: users, login profiles, access keys, groups, roles, policies
// and their versions, attachments, account summary. Each operation is
// authorized on its own action (ram:<Action>) and RAM resource ARN.
//
// This file: what the families share (ram_internal.hpp) and the product's one
// entry point.
#include "api/ram_internal.hpp"

namespace sluice::api {

namespace ram {

iam::PolicyType policy_type(Call& c, bool required) {
  auto t = required ? std::optional<std::string>(c.req("PolicyType")) : c.opt("PolicyType");
  if (!t || *t == "Custom") return iam::PolicyType::Custom;
  if (*t == "System") return iam::PolicyType::System;
  fail("InvalidParameter.PolicyType", 400, "PolicyType must be System or Custom, got \"" + *t + "\".");
}

void add(Registry& r, std::initializer_list<NamedOp> ops) {
  for (const auto& o : ops) r.add("Ram", kVersion, o.name, o.fn);
}

}  // namespace ram

void add_ram_operations(Registry& r) {
  ram::add_user_operations(r);
  ram::add_key_operations(r);
  ram::add_group_operations(r);
  ram::add_role_operations(r);
  ram::add_policy_operations(r);
  ram::add_attachment_operations(r);
  ram::add_account_operations(r);
  ram::add_security_operations(r);
  ram::add_mfa_operations(r);
}

}  // namespace sluice::api
