#pragma once
// What the Ram 2015-05-01 files share: the RAM resource ARNs every operation is
// authorized on, the PolicyType parameter, and each family's registration
// (ram.cpp calls them all from add_ram_operations). One file per family of
// operations, as in src/iam.
#include <initializer_list>
#include <string>
#include <string_view>

#include "api/rpc.hpp"

namespace sluice::api::ram {

inline constexpr const char* kVersion = "2015-05-01";

// acs:ram:*:<account>:user/<name>, group/..., role/..., policy/...
inline std::string user_arn(Call& c, std::string_view n) { return c.arn("ram", "user/" + std::string(n)); }
inline std::string group_arn(Call& c, std::string_view n) { return c.arn("ram", "group/" + std::string(n)); }
inline std::string role_arn(Call& c, std::string_view n) { return c.arn("ram", "role/" + std::string(n)); }
inline std::string policy_arn(Call& c, std::string_view n) { return c.arn("ram", "policy/" + std::string(n)); }

// The PolicyType parameter: System or Custom (the default when not required).
iam::PolicyType policy_type(Call& c, bool required = true);

// Registers Ram operations by name.
struct NamedOp {
  const char* name;
  OpFn fn;
};
void add(Registry& r, std::initializer_list<NamedOp> ops);

// One per file.
void add_user_operations(Registry& r);        // ram_users.cpp: users and their login profiles
void add_key_operations(Registry& r);         // ram_keys.cpp: access keys
void add_group_operations(Registry& r);       // ram_groups.cpp: groups and their members
void add_role_operations(Registry& r);        // ram_roles.cpp
void add_policy_operations(Registry& r);      // ram_policies.cpp: policies and their versions
void add_attachment_operations(Registry& r);  // ram_attachments.cpp: policies attached to users, groups, roles
void add_account_operations(Registry& r);     // ram_account.cpp: account summary and alias
void add_security_operations(Registry& r);    // ram_security.cpp: password policy, security preference, ChangePassword
void add_mfa_operations(Registry& r);         // ram_mfa.cpp: virtual MFA devices

}  // namespace sluice::api::ram
