#pragma once
// The RAM policy language: parse, compile, evaluate, explain. No storage, no I/O.
//
// Semantics (SPEC §3-4, documented in docs/policy-evaluation.md):
//  - default deny; every statement of every granted policy whose scope covers
//    the request's resource group is considered;
//  - a matching Deny wins over any Allow, across scopes; else a matching Allow
//    allows; else implicit deny;
//  - a request may name several resources (a topic and its parent topic): a
//    statement matches if it matches any of them, so a Deny on either denies
//    and an Allow on either allows;
//  - action names compare case-insensitively, everything else case-sensitively;
//    `*` and `?` are wildcards in actions, resources and String*Like values;
//  - condition: values under one key OR-ed, keys and operators AND-ed, a key
//    absent from the request never matches (also for the Not* operators).
//  - the deciding statement is the first matching Deny in grant order
//    (grant index, then statement index), else the first matching Allow.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::iam::policy {

struct Document;  // parsed and validated; immutable; shared between compiled sets

struct ParseResult {
  std::shared_ptr<const Document> doc;  // null on error
  // On error: "MalformedPolicyDocument: Statement[1].Condition: unknown operator \"StringEqual\""
  std::string error;
  bool ok() const { return doc != nullptr; }
};

// Validates fully (Version "1", Statement array or object, Effect, Action/NotAction,
// Resource/NotResource, Condition operators and values, size <= max_chars).
ParseResult parse(std::string_view json, size_t max_chars = 6144);

// Condition keys offered by a request: acs:SourceIp, acs:CurrentTime (ISO 8601 UTC),
// acs:SecureTransport ("true"/"false"), acs:MFAPresent, acs:AccessId,
// acs:ResourceGroupId, mq:ClientId, mq:GroupId, mq:Qos, mq:Retain, ...
class Context {
 public:
  void set(std::string key, std::string value) { values_.emplace_back(std::move(key), std::move(value)); }
  // All values for `key` (usually one); empty if absent.
  std::vector<std::string_view> get(std::string_view key) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return values_; }
 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

struct Request {
  std::string_view action;                      // "mq:PUB"
  std::span<const std::string> resources;       // ARNs, at least one
  std::string_view resource_group_id;           // group of the resource ("" = none/account-level)
  const Context* context = nullptr;             // may be null: no keys offered
};

struct Scope {
  enum class Kind : uint8_t { Account, ResourceGroup } kind = Kind::Account;
  std::string resource_group_id;  // when ResourceGroup
  bool covers(std::string_view rg) const { return kind == Kind::Account || rg == resource_group_id; }
};

// One attachment of one policy version to a principal (or one of its groups / its role).
struct Grant {
  std::string policy_name;
  std::string policy_type;   // "System" or "Custom"
  std::string version_id;    // "v1"...
  Scope scope;
  std::string via;           // how it reached the principal: "user", "group:<name>", "role:<name>", "session"
  std::shared_ptr<const Document> doc;
};

enum class Effect : uint8_t { ImplicitDeny, Allow, Deny };

struct Decision {
  Effect effect = Effect::ImplicitDeny;
  bool allowed() const { return effect == Effect::Allow; }
  // The deciding statement, when effect != ImplicitDeny.
  int grant_index = -1;
  int statement_index = -1;  // 0-based
  std::string sid;           // may be empty
  // "Deny by policy DenyOne (Custom, v1) statement 0 (Sid \"x\") at ResourceGroup rg-1 via group:ops"
  // or "no statement matched: implicit deny".
  std::string explain(std::span<const Grant> grants) const;
};

// A principal's grants, compiled: actions and resource patterns indexed so that
// a decision does not scan every statement. Immutable once built; share it.
class CompiledSet {
 public:
  static std::shared_ptr<const CompiledSet> compile(std::vector<Grant> grants);
  Decision evaluate(const Request& r) const;

  // When the index is built (added; compile(grants) is compile(grants, Auto)).
  // Auto: a set of at most kLazyIndexMaxStatements statements answers its first
  // kLazyIndexAfter - 1 decisions by a plain scan (compile + one decision stays a few
  // microseconds) and builds its index on the kLazyIndexAfter-th decision (once,
  // thread-safe); a larger set builds it in compile. Eager: always in compile.
  // Never: always scan (tests compare the two paths). Decisions are identical.
  enum class Indexing : uint8_t { Auto, Eager, Never };
  static constexpr size_t kLazyIndexMaxStatements = 2000;
  static constexpr uint32_t kLazyIndexAfter = 4;
  static std::shared_ptr<const CompiledSet> compile(std::vector<Grant> grants, Indexing indexing);
  bool indexed() const;      // the index has been built
  size_t statements() const; // statements across all grants
  const std::vector<Grant>& grants() const { return grants_; }
  ~CompiledSet();
  CompiledSet(const CompiledSet&) = delete;
  CompiledSet& operator=(const CompiledSet&) = delete;

 private:
  CompiledSet() = default;
  struct Index;
  std::vector<Grant> grants_;
  std::unique_ptr<Index> index_;
};

// Wildcard match with `*` (any run) and `?` (one char).
bool wildcard_match(std::string_view pattern, std::string_view s, bool ignore_case = false);

}  // namespace sluice::iam::policy
