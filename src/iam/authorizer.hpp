#pragma once
// The authorization entry point (SPEC §3). For a principal it builds the list
// of grants (the user's attachments and each of its groups'; a role session's
// role grants plus its session policy), compiles it once, and caches the
// compiled set per principal tagged with IamService::generation(). Any IAM
// write bumps the generation (and marks the account it touched), so the next
// decision after a change revalidates — and rebuilds if the principal's account
// changed: a change is in force for the very next call. A cached decision
// allocates nothing and rebuilds nothing; other tenants' writes cost a cached
// entry one map lookup, not a rebuild.
//
// Rules beyond the policy engine:
//  - the root account is allowed everything inside its own account;
//  - nobody acts across accounts: a resource ARN naming another account
//    (acs:<svc>:<region>:<other>:...) is denied, whatever the policies say
//    (except for sts:AssumeRole, where the role's trust policy governs — use
//    DecideOptions::allow_cross_account);
//  - a role session is allowed only where both the role's policies and the
//    session policy (if any) allow; an expired session is denied.
//
// Thread safety: decide() and lookup_access_key() may be called concurrently
// from any number of threads; the cache is under a shared_mutex.
#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "iam/iam_service.hpp"
#include "iam/model.hpp"
#include "iam/policy/policy.hpp"

namespace sluice::iam {

struct DecideOptions {
  bool allow_cross_account = false;  // sts:AssumeRole only
};

class Authorizer {
 public:
  explicit Authorizer(IamService& iam) : iam_(iam) {}

  enum class Reason : uint8_t {
    Policy,          // decided by the policies (see decision / set)
    Root,            // root account inside its own account
    CrossAccount,    // a resource belongs to another account
    NoPrincipal,     // the user / role / session does not exist (any more), or no resource named
    SessionExpired,  // the STS credentials expired
    SessionPolicy,   // the role allowed it but the session policy did not
  };

  struct Verdict {
    policy::Effect effect = policy::Effect::ImplicitDeny;
    Reason reason = Reason::Policy;
    policy::Decision decision;                          // of `set`, when reason is Policy or SessionPolicy
    std::shared_ptr<const policy::CompiledSet> set;     // the set whose decision is shown
    std::string detail;                                 // for CrossAccount / NoPrincipal
    bool allowed() const { return effect == policy::Effect::Allow; }
    // "ALLOW: Allow by policy ... " / "DENY: resource acs:mq:...:123:... belongs to another account"
    std::string explain() const;
  };

  // resource_group_id: the group of the resource(s) ("" for account-level
  // resources); see decide_on() to have it looked up.
  Verdict decide(const Principal& p, std::string_view action, std::span<const std::string> resources,
                 std::string_view resource_group_id, const policy::Context* context = nullptr,
                 DecideOptions opts = {});
  Verdict decide(const Principal& p, std::string_view action, const std::string& resource,
                 std::string_view resource_group_id = {}, const policy::Context* context = nullptr) {
    return decide(p, action, std::span<const std::string>(&resource, 1), resource_group_id, context);
  }
  // The caller's own permission for STS AssumeRole on a role ARN, which may be
  // in another account (the role's trust policy, checked by
  // IamService::assume_role, is the other half).
  Verdict decide_assume_role(const Principal& caller, const std::string& role_arn,
                             const policy::Context* context = nullptr) {
    return decide(caller, "sts:AssumeRole", std::span<const std::string>(&role_arn, 1), "", context,
                  DecideOptions{true});
  }
  // Same, with the resource group of the registered resource (type, id) looked
  // up now (e.g. type "instance", id "mqtt-local-abc" for a topic of that instance).
  Verdict decide_on(const Principal& p, std::string_view action, std::span<const std::string> resources,
                    std::string_view resource_type, std::string_view resource_id,
                    const policy::Context* context = nullptr);

  // "Has anything changed since generation G?" for callers that cache their own
  // decisions (the broker's per-connection caches): remember generation() when
  // caching, compare later. One atomic load.
  uint64_t generation() const { return iam_.generation(); }
  bool changed_since(uint64_t g) const { return iam_.generation() != g; }
  // Finer: has anything changed in this account since generation G (G taken
  // from generation())? Lets a per-connection cache survive other tenants' writes.
  bool account_changed_since(std::string_view account_id, uint64_t g) const {
    (void)iam_.generation();  // polls for other processes' commits
    return iam_.account_generation(account_id) > g;
  }

  // Resolves an access key id (LTAI.../STS....) to its principal and decrypted
  // secret. Callers verify the HMAC (constant time) and check status/expiry.
  Result<AccessKeyInfo> lookup_access_key(std::string_view key_id) { return iam_.lookup_access_key(key_id); }
  // After a key signed a request or an MQTT connect (GetAccessKeyLastUsed); memory only.
  void note_key_used(std::string_view key_id) { iam_.note_key_used(key_id); }

  // The compiled grants in force for a principal (for console "effective permissions").
  std::shared_ptr<const policy::CompiledSet> compiled_for(const Principal& p);

  size_t cached_principals() const;
  uint64_t builds() const { return builds_.load(std::memory_order_relaxed); }  // compiled sets built so far
  void clear();

 private:
  struct Entry {
    // Built from IAM state at global generation `built`; confirmed current at
    // `checked`. Still current while the principal's account has had no write
    // since `built` (IamService::account_generation).
    uint64_t built = 0;
    mutable std::atomic<uint64_t> checked{0};
    std::shared_ptr<const policy::CompiledSet> set;      // user / role grants
    std::shared_ptr<const policy::CompiledSet> session;  // session policy (role sessions), may be null
    int64_t expires_at = 0;                              // role sessions
    std::string missing;                                 // non-empty: principal does not exist
  };
  std::shared_ptr<const Entry> entry_for(const Principal& p);
  bool current(const Entry& e, uint64_t generation, std::string_view account_id) const;
  std::shared_ptr<const Entry> build(const Principal& p, uint64_t generation);

  IamService& iam_;
  std::atomic<uint64_t> builds_{0};
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Entry>, StringHash, std::equal_to<>> cache_;
};

const char* to_string(policy::Effect e);

}  // namespace sluice::iam
