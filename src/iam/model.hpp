#pragma once
// Plain structs of the identity model (SPEC §1, §3). Times are Unix seconds.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::iam {

// Limits (RAM's defaults; all configurable).
struct Limits {
  size_t users_per_account = 5000;
  size_t access_keys_per_user = 2;  // also for the root account
  size_t groups_per_user = 10;
  size_t groups_per_account = 300;
  size_t roles_per_account = 1000;
  size_t custom_policies_per_account = 1500;
  size_t versions_per_policy = 5;
  size_t system_policies_per_principal = 20;
  size_t custom_policies_per_principal = 10;
  size_t resource_groups_per_account = 30;
  size_t policy_document_max_chars = 6144;
  int64_t sts_min_duration = 900;
  int64_t role_default_max_session = 3600;
  int64_t role_max_session_upper = 43200;
};

struct Account {
  std::string id;  // 16 digits
  std::string login_name;
  std::string alias;
  int64_t created_at = 0;
  bool mq_activated = false;
};

struct User {
  std::string account_id;
  std::string name;
  std::string user_id;  // 16 digits
  std::string display_name;
  std::string comments;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::string email;
  std::string mobile_phone;  // "<country code>-<number>", e.g. 86-18600008888
};

struct UserInput {
  std::string name;
  std::string display_name;  // empty: the name
  std::string comments;
};

// A user's contact details (CreateUser's Email / MobilePhone).
struct UserContact {
  std::string email;
  std::string mobile_phone;
};

// Optional new values of UpdateUser.
struct UserUpdate {
  std::optional<std::string> name, display_name, comments, email, mobile_phone;
};

struct LoginProfile {
  std::string account_id;
  std::string user_name;
  bool password_reset_required = false;
  bool mfa_bind_required = false;
  int64_t created_at = 0;
  // The user's login generation after this profile's last change (console
  // sessions are bound to it; see IamService::console_standing).
  int64_t generation = 0;
};

enum class KeyStatus { Active, Inactive };
const char* to_string(KeyStatus s);

struct AccessKey {
  std::string id;  // "LTAI" + 20 alnum
  std::string account_id;
  std::optional<std::string> user_name;  // nullopt: the root account's key
  KeyStatus status = KeyStatus::Active;
  int64_t created_at = 0;
};

// Returned by create_access_key only: the one time the secret is shown.
struct NewAccessKey {
  AccessKey key;
  std::string secret;  // 30 alnum
};

struct Group {
  std::string account_id;
  std::string name;
  std::string group_id;
  std::string comments;
  int64_t created_at = 0;
};

struct Role {
  std::string account_id;
  std::string name;
  std::string role_id;
  std::string arn;  // acs:ram::<account>:role/<lowercased name>
  std::string description;
  std::string trust_policy;  // AssumeRolePolicyDocument
  int64_t max_session_duration = 3600;
  int64_t created_at = 0;
};

enum class PolicyType { System, Custom };
const char* to_string(PolicyType t);

struct Policy {
  std::string name;
  PolicyType type = PolicyType::Custom;
  std::string description;
  std::string default_version;  // "v1"...
  bool high_risk = false;       // system policies only
  int64_t created_at = 0;
  size_t attachment_count = 0;
};

struct PolicyVersion {
  std::string version_id;
  bool is_default = false;
  std::string document;
  int64_t created_at = 0;
};

struct ResourceGroup {
  std::string id;  // "rg-" + 15 lowercase alnum
  std::string account_id;
  std::string name;
  std::string display_name;
  bool is_default = false;
  int64_t created_at = 0;
};

// A resource of any service, registered so that it belongs to a resource group.
struct ResourceRef {
  std::string service = "mq";        // "mq"
  std::string region = "local";
  std::string type;                  // "instance"
  std::string id;                    // "mqtt-local-abc"
};

struct ResourceEntry {
  ResourceRef ref;
  std::string account_id;
  std::string resource_group_id;
  int64_t created_at = 0;
};

enum class PrincipalType { User, Group, Role };
const char* to_string(PrincipalType t);

struct PrincipalRef {
  PrincipalType type = PrincipalType::User;
  std::string name;
};

struct Attachment {
  std::string account_id;
  PrincipalRef principal;
  PolicyType policy_type = PolicyType::Custom;
  std::string policy_name;
  std::string resource_group_id;  // "" = Account scope
  int64_t attached_at = 0;
};

struct AttachmentFilter {
  std::optional<PrincipalRef> principal;
  std::optional<PolicyType> policy_type;
  std::optional<std::string> policy_name;
  std::optional<std::string> resource_group_id;  // "" = Account scope only
};

// RAM GetAccountSummary: counts and the quotas in force.
struct AccountSummary {
  size_t users = 0, groups = 0, roles = 0, policies = 0, access_keys = 0, resource_groups = 0,
         attached_system = 0, attached_custom = 0;
  Limits quotas;
};

// Who is making a request (SPEC §3).
struct Principal {
  enum class Kind : uint8_t { Root, User, RoleSession };
  Kind kind = Kind::Root;
  std::string account_id;
  std::string name;           // user name, or role name for a session
  std::string session_name;   // role sessions
  std::string source_identity;  // role sessions: AssumeRole's SourceIdentity, for the audit log
  std::string access_key_id;  // the key used, if any (the STS key for sessions)
  std::string key;            // cache key; set by the factories

  static Principal root(std::string account_id);
  static Principal user(std::string account_id, std::string name);
  static Principal role_session(std::string account_id, std::string role, std::string session,
                                std::string sts_access_key_id);
  // acs:ram::<acct>:root | user/<name> | assumed-role/<role>/<session>
  std::string arn() const;
};

// STS AssumeRole output.
struct StsCredentials {
  std::string access_key_id;  // "STS." + alnum
  std::string access_key_secret;
  std::string security_token;
  int64_t expiration = 0;
  std::string assumed_role_id;  // "<role_id>:<session>"
  std::string assumed_role_arn; // acs:ram::<acct>:assumed-role/<role>/<session>
  std::string source_identity;  // AssumeRole's SourceIdentity, carried by the session
};

// AssumeRole's inputs beyond the role and session name.
struct AssumeRoleOptions {
  std::optional<int64_t> duration_seconds;
  std::optional<std::string> session_policy;
  std::optional<std::string> external_id;      // the trust policy's sts:ExternalId condition key
  std::optional<std::string> source_identity;  // carried into the session and its audit records
};

// A virtual MFA device (RAM CreateVirtualMFADevice); bound to at most one user.
struct MfaDevice {
  std::string serial_number;  // acs:ram::<account>:mfa/<name>
  std::string account_id;
  std::string name;
  std::optional<std::string> user_name;  // bound to
  std::string user_id, user_display_name;
  int64_t activated_at = 0;  // when bound; 0 = not bound
  int64_t created_at = 0;
};
struct NewMfaDevice {
  MfaDevice device;
  std::string base32_seed;  // shown once, at creation
  std::string otpauth_uri;
};

// What an access key id resolves to (for HMAC verification by the caller).
struct AccessKeyInfo {
  Principal principal;
  std::string secret;          // decrypted; kept in memory only
  KeyStatus status = KeyStatus::Active;
  std::string security_token;  // STS keys: the token the caller must present
  int64_t expires_at = 0;      // STS keys; 0 = never
};

}  // namespace sluice::iam
