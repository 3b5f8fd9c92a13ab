#pragma once
// The parsed, validated form of a policy document (the `Document` that policy.hpp
// only forward-declares). Plain data: the evaluator, the index and anyone who needs
// to show a document (console, API) read it; nothing here evaluates.
//
// Everything is validated at parse time, and condition values are pre-converted
// (numbers, dates, addresses) so that evaluation never re-parses the policy side.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_net.hpp"
#include "iam/policy/policy.hpp"

namespace sluice::iam::policy {

enum class ConditionOp : uint8_t {
  StringEquals,
  StringNotEquals,
  StringEqualsIgnoreCase,
  StringNotEqualsIgnoreCase,
  StringLike,
  StringNotLike,
  NumericEquals,
  NumericNotEquals,
  NumericLessThan,
  NumericLessThanEquals,
  NumericGreaterThan,
  NumericGreaterThanEquals,
  DateEquals,
  DateNotEquals,
  DateLessThan,
  DateLessThanEquals,
  DateGreaterThan,
  DateGreaterThanEquals,
  Bool,
  IpAddress,
  NotIpAddress,
};

// Operator name as written in documents ("StringEquals"); nullptr-safe round trip.
std::string_view condition_op_name(ConditionOp op);
// False if `name` is not an operator (names are case-sensitive, as in RAM).
bool condition_op_from_name(std::string_view name, ConditionOp& out);

// An address or a network (common/ip_net.hpp).
using IpNet = common::IpNet;

struct ConditionValue {
  std::string text;        // the value as written (numbers/bools in their JSON spelling)
  double number = 0;       // Numeric*
  int64_t time_ms = 0;     // Date*: milliseconds since the Unix epoch, UTC
  bool boolean = false;    // Bool
  IpNet net;               // IpAddress / NotIpAddress
};

struct Condition {
  ConditionOp op = ConditionOp::StringEquals;
  std::string key;                    // "acs:SourceIp" (compared case-sensitively)
  std::vector<ConditionValue> values; // at least one; OR-ed
};

struct Statement {
  std::string sid;                    // empty when absent
  bool has_sid = false;
  Effect effect = Effect::Allow;      // Allow or Deny
  bool not_action = false;            // `actions` came from NotAction
  std::vector<std::string> actions;   // as written ("mq:PUB", "mq:List*", "*")
  bool not_resource = false;          // `resources` came from NotResource
  std::vector<std::string> resources; // as written
  std::vector<Condition> conditions;  // AND-ed

  // Matching aids the parser derives from `actions` (not part of the document).
  // A scan skips a statement whose bloom lacks the request action's bit. Only
  // trusted when `has_action_aids` (a hand-built Statement has none).
  bool has_action_aids = false;
  bool wild_actions = false;   // some pattern has `*` or `?`
  uint64_t action_bloom = 0;   // bit (action_hash(a) >> 58: FNV mixes its top bits best) of each wildcard-free action
};

// ASCII-case-insensitive FNV-1a of an action name (the bloom and the index use it).
inline uint64_t action_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    h *= 1099511628211ull;
  }
  return h;
}

struct Document {
  std::string version;                // "1"
  std::vector<Statement> statements;  // in document order (statement index = position)
};

}  // namespace sluice::iam::policy
