#pragma once
// The identity operations (RAM, ResourceManager, STS, activation) over the
// store. Callers (API, console, admin CLI) authorize first with Authorizer;
// these functions only validate input, enforce limits and persist.
//
// Every write runs in one SQLite transaction and, once committed, bumps
// generation(): caches of anything derived from IAM state (compiled policy
// sets, resolved access keys, the broker's per-connection decisions) compare
// their generation with it to know they are stale.
//
// Thread safety: all members may be called from any thread. Database access
// is serialized; lookup_access_key() and resource_group_of() are served from
// in-memory caches under a shared_mutex.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "iam/errors.hpp"
#include "iam/model.hpp"
#include "iam/password_policy.hpp"
#include "iam/policy/policy.hpp"

namespace sluice::store {
class Store;
class ChangeFeed;
}

namespace sluice::iam {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The other accounts whose principals a (valid) trust policy admits to assume
// its role: the accounts named by the RAM principals of its Allow statements,
// other than `own_account`. CreateRole / UpdateRole warn about them.
std::vector<std::string> trusted_foreign_accounts(std::string_view own_account, std::string_view trust_policy);

class IamService {
 public:
  // `clock` returns Unix seconds (tests move time forward); default: the system clock.
  using Clock = int64_t (*)();
  IamService(std::shared_ptr<store::Store> store, Limits limits = {}, Clock clock = nullptr);
  ~IamService();
  IamService(const IamService&) = delete;
  IamService& operator=(const IamService&) = delete;

  const Limits& limits() const { return limits_; }
  // Bumped after every committed write — also by another process on the same
  // data dir (e.g. `sluice admin` while the server runs): at most every 200 ms
  // a call here asks the store's change feed (store/changes.hpp) and bumps if
  // another connection committed to identity tables. Otherwise one clock read
  // and an acquire-load: cheap to poll.
  uint64_t generation() {
    if (changes_due()) poll_external_changes();
    return generation_.load(std::memory_order_acquire);
  }
  // The generation of the last write that touched this account (or of the last
  // change seen from another process). A cache entry built at generation B for
  // a principal of this account is still valid while this is <= B — so one
  // tenant's writes do not invalidate every other tenant's caches.
  uint64_t account_generation(std::string_view account_id) const;
  int64_t now() const;
  std::string region() const { return region_; }
  void set_region(std::string r) { region_ = std::move(r); }

  // ---- Accounts and service activation ----
  // Creates the account with its default resource group. Password >= 8 chars.
  Result<Account> create_account(std::string_view login_name, std::string_view alias, std::string_view password);
  Result<Account> get_account(std::string_view account_id);
  // The account alias (iam_alias.cpp): the cloud's rule (3-32 lowercase letters,
  // digits and '-', not starting or ending with '-'), unique across accounts.
  // Clearing it restores the default, the account id. A RAM user's principal
  // name is <user>@<alias>.onaliyun.com.
  Status set_account_alias(std::string_view account_id, std::string_view alias);
  Status clear_account_alias(std::string_view account_id);
  // The account a login or principal-name suffix names: "<alias>", "<account id>",
  // either followed by ".onaliyun.com" (case-insensitive); nullopt for none.
  std::optional<std::string> account_of_suffix(std::string_view suffix);
  Result<std::vector<Account>> list_accounts();
  // Console sign-in as the root account (login name or alias) — NoPermission-free
  // "InvalidPassword"-style error on mismatch, same for an unknown login.
  Result<Account> verify_root_login(std::string_view login, std::string_view password);
  // Console sign-in as a RAM user: "<user>@<alias>" + password (needs a login profile).
  Result<User> verify_user_login(std::string_view user_at_alias, std::string_view password);
  // The root account's console password (iam_console.cpp). Setting it clears
  // the "must change" flag the bootstrap account starts with and moves the
  // root's login generation; returns the new generation.
  Result<int64_t> set_root_password(std::string_view account_id, std::string_view new_password);
  Status set_root_password_change_required(std::string_view account_id, bool required);
  Result<bool> root_password_change_required(std::string_view account_id);
  // The account a console login names (root login name or alias, or user@alias),
  // without checking any password: failed sign-ins go to that account's audit log.
  std::optional<std::string> account_of_login(std::string_view login);

  // ---- Console sign-in (iam_console.cpp) ----
  // A console session is bound to who signed in — the account, and for a RAM
  // user its user id, which a re-created user of the same name does not share —
  // and to that login's generation: a counter that moves on every password
  // change or reset and every login profile create / update / delete (a RAM
  // user), or root password change. A session whose standing no longer matches
  // has ended.
  struct ConsoleSignIn {
    Principal principal;
    std::string user_id;       // RAM user; empty for the root account
    std::string display_name;  // the user's display name; the login name for root
    bool must_change_password = false;
    int64_t generation = 0;    // read with the password hash, before it was checked
    // A RAM user's console session lasts at most this long (the security
    // preference's LoginSessionDuration); 0: the console's own limit (root).
    int64_t session_seconds = 0;
    // The login profile's MFABindRequired and no device bound yet: the console
    // lets this session do nothing but bind one.
    bool must_bind_mfa = false;
    // The device whose code this sign-in checked ("" if none): the console's
    // saved MFA ticket names it (EnableSaveMFATicket).
    std::string mfa_serial;
  };
  // A saved MFA check (EnableSaveMFATicket), its MAC and expiry already checked
  // by the console: it stands for a code of that user's device, if still bound.
  struct MfaTicket {
    std::string user_id, serial;
  };
  // "user@alias" (a RAM user with a login profile), else a root login name or
  // alias. InvalidLogin alike for a wrong password and an unknown login, after
  // the same number of password hash checks.
  Result<ConsoleSignIn> console_sign_in(std::string_view login, std::string_view password);
  // A RAM user's sign-in also answers to the account's password policy and the
  // user's MFA device (issue 21): LoginLocked (429: MaxLoginAttemps wrong
  // passwords or codes within the hour), MFARequired (401: right password, a
  // device is bound, no code given), InvalidMFACode (401), PasswordExpired
  // (403: MaxPasswordAge passed under HardExpiry; without it, the password
  // must be changed first).
  // `source`: the client's address. MaxLoginAttemps counts per user and source
  // address, so that an attack on a user's name from elsewhere does not lock the
  // user out of its own address (the console's per-name throttle still slows it).
  Result<ConsoleSignIn> console_sign_in(std::string_view login, std::string_view password,
                                        std::optional<std::string> mfa_code, std::string_view source = {},
                                        const MfaTicket* ticket = nullptr);
  struct ConsoleStanding {
    std::string name;          // the user's current name (a rename keeps the id); root: login name
    std::string display_name;
    int64_t generation = 0;
  };
  // The current standing of a root account (user_id empty) or RAM user (by id):
  // EntityNotExist.Account / .User / .User.LoginProfile once it is gone.
  Result<ConsoleStanding> console_standing(std::string_view account_id, std::string_view user_id);
  // One counter per thing a sign-in attempt names, whatever spelling it uses
  // (the root by login name or by alias count as one): "root:<account>",
  // "user:<account>:<name>", or "login:<as given>" for a name of no account.
  std::string console_login_key(std::string_view login);
  Status activate_service(std::string_view account_id, std::string_view service);  // idempotent; "mq"
  Result<bool> service_active(std::string_view account_id, std::string_view service);
  Result<AccountSummary> account_summary(std::string_view account_id);

  // ---- RAM users ----
  Result<User> create_user(std::string_view account_id, const UserInput& in);
  Result<User> create_user(std::string_view account_id, const UserInput& in, const UserContact& contact);
  Result<User> get_user(std::string_view account_id, std::string_view name);
  Result<std::vector<User>> list_users(std::string_view account_id);
  // Renames when new_name is set; display name / comments when set.
  Result<User> update_user(std::string_view account_id, std::string_view name, std::optional<std::string> new_name,
                           std::optional<std::string> display_name, std::optional<std::string> comments);
  Result<User> update_user(std::string_view account_id, std::string_view name, const UserUpdate& update);
  // DeleteConflict.User.AccessKey / .Group / .Policy unless empty. The login profile goes with it.
  Status delete_user(std::string_view account_id, std::string_view name);

  // ---- Login profiles ----
  Result<LoginProfile> create_login_profile(std::string_view account_id, std::string_view user, std::string_view password,
                                            bool password_reset_required = false, bool mfa_bind_required = false);
  Result<LoginProfile> get_login_profile(std::string_view account_id, std::string_view user);
  Result<LoginProfile> update_login_profile(std::string_view account_id, std::string_view user,
                                            std::optional<std::string> password, std::optional<bool> reset_required,
                                            std::optional<bool> mfa_bind_required);
  Status delete_login_profile(std::string_view account_id, std::string_view user);

  // ---- Account settings (iam_settings.cpp) ----
  // The password policy every RAM user's console password is held to, wherever
  // it is set (CreateLoginProfile, UpdateLoginProfile, ChangePassword, the
  // console): InvalidParameter.Password.PolicyViolation / .Reused.
  Result<PasswordPolicy> password_policy(std::string_view account_id);
  Result<PasswordPolicy> set_password_policy(std::string_view account_id, const PasswordPolicy& p);
  Result<SecurityPreference> security_preference(std::string_view account_id);
  Result<SecurityPreference> set_security_preference(std::string_view account_id, const SecurityPreference& p);
  // A RAM user changes its own password (RAM ChangePassword): the old one is
  // checked, the new one meets the policy. (The security preference's
  // AllowUserToChangePassword is the caller's to check: it decides who may ask.)
  // Returns the login's new generation.
  Result<int64_t> change_password(std::string_view account_id, std::string_view user, std::string_view old_password,
                                  std::string_view new_password);
  // MaxLoginAttemps: wrong console passwords or MFA codes of a RAM user from one
  // source address within the last hour (this process's memory; a password
  // reset or a successful sign-in clears them).
  bool user_login_locked(std::string_view account_id, std::string_view user, std::string_view source);
  void user_login_failed(std::string_view account_id, std::string_view user, std::string_view source);
  void user_login_cleared(std::string_view account_id, std::string_view user);

  // ---- When access keys were last used (iam_key_usage.cpp) ----
  // Called after a key signed an API call or an MQTT connect: memory only; the
  // times are written in one batch at most every kKeyUsageFlushSeconds (by the
  // next call after that), and on destruction.
  static constexpr int64_t kKeyUsageFlushSeconds = 60;
  void note_key_used(std::string_view key_id);
  // nullopt: never used. EntityNotExist.AccessKey unless the key is the user's
  // (user nullopt: the root's).
  Result<std::optional<int64_t>> access_key_last_used(std::string_view account_id, std::optional<std::string> user,
                                                      std::string_view key_id);
  void flush_key_usage();

  // ---- Virtual MFA devices (iam_mfa.cpp) ----
  Result<NewMfaDevice> create_virtual_mfa_device(std::string_view account_id, std::string_view name);
  // Two consecutive codes from the device bind it to the user.
  Status bind_mfa_device(std::string_view account_id, std::string_view user, std::string_view serial,
                         std::string_view code1, std::string_view code2);
  Result<MfaDevice> unbind_mfa_device(std::string_view account_id, std::string_view user);
  Result<MfaDevice> user_mfa_device(std::string_view account_id, std::string_view user);
  Result<std::vector<MfaDevice>> list_virtual_mfa_devices(std::string_view account_id);
  Status delete_virtual_mfa_device(std::string_view account_id, std::string_view serial);
  // The user's bound device accepts `code` (once: its step is recorded).
  // InvalidMFACode otherwise; EntityNotExist.User.MFADevice with no device.
  Status verify_mfa_code(std::string_view account_id, std::string_view user, std::string_view code);

  // ---- Access keys (user = nullopt: the root account's own keys) ----
  Result<NewAccessKey> create_access_key(std::string_view account_id, std::optional<std::string> user);
  Result<std::vector<AccessKey>> list_access_keys(std::string_view account_id, std::optional<std::string> user);
  Status update_access_key(std::string_view account_id, std::optional<std::string> user, std::string_view key_id,
                           KeyStatus status);
  Status delete_access_key(std::string_view account_id, std::optional<std::string> user, std::string_view key_id);
  // Resolves any key id (LTAI..., STS....). EntityNotExist.AccessKey if unknown;
  // an expired STS key is reported with status Inactive. Served from memory.
  Result<AccessKeyInfo> lookup_access_key(std::string_view key_id);

  // ---- Groups ----
  Result<Group> create_group(std::string_view account_id, std::string_view name, std::string_view comments = {});
  Result<Group> get_group(std::string_view account_id, std::string_view name);
  Result<std::vector<Group>> list_groups(std::string_view account_id);
  Result<Group> update_group(std::string_view account_id, std::string_view name, std::optional<std::string> new_name,
                             std::optional<std::string> comments);
  Status delete_group(std::string_view account_id, std::string_view name);  // DeleteConflict.Group.User / .Policy
  Status add_user_to_group(std::string_view account_id, std::string_view group, std::string_view user);
  Status remove_user_from_group(std::string_view account_id, std::string_view group, std::string_view user);
  Result<std::vector<Group>> list_groups_for_user(std::string_view account_id, std::string_view user);
  Result<std::vector<User>> list_users_for_group(std::string_view account_id, std::string_view group);

  // ---- Roles and STS ----
  Result<Role> create_role(std::string_view account_id, std::string_view name, std::string_view trust_policy,
                           std::string_view description = {}, std::optional<int64_t> max_session_duration = {});
  Result<Role> get_role(std::string_view account_id, std::string_view name);
  Result<std::vector<Role>> list_roles(std::string_view account_id);
  Result<Role> update_role(std::string_view account_id, std::string_view name, std::optional<std::string> trust_policy,
                           std::optional<int64_t> max_session_duration,
                           std::optional<std::string> description = std::nullopt);
  Status delete_role(std::string_view account_id, std::string_view name);  // DeleteConflict.Role.Policy
  // STS AssumeRole. The caller's own permission (sts:AssumeRole on the role ARN)
  // is checked by the API layer through Authorizer::decide (cross-account allowed
  // for that action); this checks the role's trust policy, the duration
  // (900 .. MaxSessionDuration, default 3600) and the session policy.
  Result<StsCredentials> assume_role(const Principal& caller, std::string_view role_arn, std::string_view session_name,
                                     std::optional<int64_t> duration_seconds, std::optional<std::string> session_policy);
  // With ExternalId (matched against a trust policy's sts:ExternalId condition)
  // and SourceIdentity (kept with the session).
  Result<StsCredentials> assume_role(const Principal& caller, std::string_view role_arn, std::string_view session_name,
                                     const AssumeRoleOptions& opts);

  // ---- Policies ----
  Result<Policy> create_policy(std::string_view account_id, std::string_view name, std::string_view document,
                               std::string_view description = {});
  Result<Policy> get_policy(std::string_view account_id, PolicyType type, std::string_view name);
  // type nullopt: system then custom.
  Result<std::vector<Policy>> list_policies(std::string_view account_id, std::optional<PolicyType> type);
  Status delete_policy(std::string_view account_id, std::string_view name);  // DeleteConflict.Policy.*
  // cascading: detach it from every principal and delete its other versions first, in the same transaction.
  Status delete_policy(std::string_view account_id, std::string_view name, bool cascading);
  Result<Policy> update_policy_description(std::string_view account_id, std::string_view name,
                                           std::string_view description);
  // rotate: when at the version limit, delete the oldest non-default version
  // (RAM's RotateStrategy=DeleteOldestNonDefaultVersionWhenLimitExceeded).
  Result<PolicyVersion> create_policy_version(std::string_view account_id, std::string_view name,
                                              std::string_view document, bool set_as_default, bool rotate = false);
  Result<PolicyVersion> get_policy_version(std::string_view account_id, PolicyType type, std::string_view name,
                                           std::string_view version_id);
  Result<std::vector<PolicyVersion>> list_policy_versions(std::string_view account_id, PolicyType type,
                                                          std::string_view name);
  Status delete_policy_version(std::string_view account_id, std::string_view name, std::string_view version_id);
  Status set_default_policy_version(std::string_view account_id, std::string_view name, std::string_view version_id);

  // ---- Resource groups and resources ----
  Result<ResourceGroup> create_resource_group(std::string_view account_id, std::string_view name,
                                              std::string_view display_name);
  Result<ResourceGroup> get_resource_group(std::string_view account_id, std::string_view id);
  Result<ResourceGroup> default_resource_group(std::string_view account_id);
  Result<std::vector<ResourceGroup>> list_resource_groups(std::string_view account_id);
  Result<ResourceGroup> update_resource_group(std::string_view account_id, std::string_view id,
                                              std::string_view display_name);
  // DeleteConflict.ResourceGroup.Resource / .Attachment; the default group cannot be deleted.
  Status delete_resource_group(std::string_view account_id, std::string_view id);
  // Registers a resource in `resource_group_id` (empty: the default group).
  Result<ResourceEntry> register_resource(std::string_view account_id, const ResourceRef& ref,
                                          std::string_view resource_group_id = {});
  Status unregister_resource(std::string_view account_id, std::string_view type, std::string_view id);
  // Moves all (atomically) or none.
  Status move_resources(std::string_view account_id, std::string_view to_group, const std::vector<ResourceRef>& refs);
  // The group a resource is in right now ("" if unregistered). From memory.
  std::string resource_group_of(std::string_view account_id, std::string_view type, std::string_view id) const;
  Result<std::vector<ResourceEntry>> list_resources(std::string_view account_id,
                                                    std::optional<std::string> resource_group_id);

  // ---- Attachments (grants) ----
  // resource_group_id: "" or the account id = Account scope, else a group of the account.
  Status attach_policy(std::string_view account_id, const PrincipalRef& principal, PolicyType type,
                       std::string_view policy_name, std::string_view resource_group_id = {});
  Status detach_policy(std::string_view account_id, const PrincipalRef& principal, PolicyType type,
                       std::string_view policy_name, std::string_view resource_group_id = {});
  Result<std::vector<Attachment>> list_attachments(std::string_view account_id, const AttachmentFilter& f = {});

  // ---- For the Authorizer ----
  // The grants in force for a principal (user + its groups; a role). Missing
  // principal: EntityNotExist.*.
  Result<std::vector<policy::Grant>> grants_for_user(std::string_view account_id, std::string_view user);
  Result<std::vector<policy::Grant>> grants_for_role(std::string_view account_id, std::string_view role);
  struct SessionInfo {
    std::string account_id, role_name, session_name;
    std::optional<std::string> session_policy;
    int64_t expires_at = 0;
    std::string source_identity;
  };
  Result<SessionInfo> get_sts_session(std::string_view sts_key_id);

  store::Store& store() { return *store_; }

 private:
  struct VettedPassword {
    std::string hash;
    std::string history;  // JSON array of the hashes to keep, newest first
  };
  // The policy check and reuse check of a RAM user's new console password, and its hash.
  Result<VettedPassword> vet_user_password(std::string_view account_id, std::string_view user,
                                           std::string_view password);
  Result<std::string> setting(std::string_view account_id, std::string_view name);  // "" when unset
  // The MFA step of a RAM user's console sign-in, once the password matched.
  // `ticket` (with the user's id in `user_id`) stands for a code when the
  // preference saves MFA tickets; `serial` gets the device whose code was checked.
  Status verify_user_second_factor(std::string_view account_id, std::string_view user,
                                   const std::optional<std::string>& mfa_code, std::string_view source,
                                   const MfaTicket* ticket = nullptr, std::string_view user_id = {},
                                   std::string* serial = nullptr);
  Status set_setting(std::string_view account_id, std::string_view name, const std::string& value);
  std::mutex usage_mu_;
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> key_usage_;  // usage_mu_: unflushed
  int64_t usage_flushed_at_ = 0;                                                     // usage_mu_
  std::mutex attempts_mu_;
  // attempts_mu_: "<acct>:<user>\x1f<source>" -> times of failures within the hour
  std::unordered_map<std::string, std::vector<int64_t>> login_failures_;

  friend struct IamTx;
  void bump(std::string_view account_id);  // after a committed write to that account's state
  // One write to an account's identity state: f(db) under the store lock in one IamTx,
  // committed and bumped when it returns a value, rolled back on an error (internal.hpp).
  template <class F>
  auto write_tx(std::string_view account_id, F&& f);
  void bump_all();                          // after another process changed the store
  uint64_t account_generation_locked(std::string_view account_id) const;  // cache_mu_ held
  Status account_exists(std::string_view account_id);
  void load_resource_map_locked();  // store mutex held
  void reload_account_locked(std::string_view account_id);  // store mutex held: one account's part
  bool changes_due();               // one clock read, mostly
  void poll_external_changes();
  Result<std::vector<policy::Grant>> grants_of(std::string_view account_id, PrincipalType type, std::string_view name,
                                               std::string via);
  std::shared_ptr<const policy::Document> custom_doc(std::string_view account_id, std::string_view name,
                                                     std::string* version);

  std::shared_ptr<store::Store> store_;
  Limits limits_;
  Clock clock_;
  std::string region_ = "local";
  std::atomic<uint64_t> generation_{1};
  uint64_t floor_gen_ = 1;  // cache_mu_: every account's generation is at least this
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> account_gen_;  // cache_mu_
  std::unique_ptr<store::ChangeFeed> changes_;  // channel "iam"

  // Caches served without touching SQLite.
  mutable std::shared_mutex cache_mu_;
  struct KeyCacheEntry {
    uint64_t generation;
    AccessKeyInfo info;
  };
  std::unordered_map<std::string, KeyCacheEntry, StringHash, std::equal_to<>> key_cache_;
  // "<account>\x1f<type>\x1f<id>" -> resource group id; kept in step with the table.
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> resource_map_;
  // Parsed custom policy documents: "<account>\x1f<name>\x1f<version>".
  std::unordered_map<std::string, std::shared_ptr<const policy::Document>, StringHash, std::equal_to<>> doc_cache_;
};

}  // namespace sluice::iam
