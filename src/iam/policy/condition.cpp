// Condition operators: names and per-value semantics.
#include "iam/policy/condition.hpp"

#include "iam/policy/values.hpp"

namespace sluice::iam::policy {

namespace {

struct OpName {
  std::string_view name;
  ConditionOp op;
};

constexpr OpName kOps[] = {
    {"StringEquals", ConditionOp::StringEquals},
    {"StringNotEquals", ConditionOp::StringNotEquals},
    {"StringEqualsIgnoreCase", ConditionOp::StringEqualsIgnoreCase},
    {"StringNotEqualsIgnoreCase", ConditionOp::StringNotEqualsIgnoreCase},
    {"StringLike", ConditionOp::StringLike},
    {"StringNotLike", ConditionOp::StringNotLike},
    {"NumericEquals", ConditionOp::NumericEquals},
    {"NumericNotEquals", ConditionOp::NumericNotEquals},
    {"NumericLessThan", ConditionOp::NumericLessThan},
    {"NumericLessThanEquals", ConditionOp::NumericLessThanEquals},
    {"NumericGreaterThan", ConditionOp::NumericGreaterThan},
    {"NumericGreaterThanEquals", ConditionOp::NumericGreaterThanEquals},
    {"DateEquals", ConditionOp::DateEquals},
    {"DateNotEquals", ConditionOp::DateNotEquals},
    {"DateLessThan", ConditionOp::DateLessThan},
    {"DateLessThanEquals", ConditionOp::DateLessThanEquals},
    {"DateGreaterThan", ConditionOp::DateGreaterThan},
    {"DateGreaterThanEquals", ConditionOp::DateGreaterThanEquals},
    {"Bool", ConditionOp::Bool},
    {"IpAddress", ConditionOp::IpAddress},
    {"NotIpAddress", ConditionOp::NotIpAddress},
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Negated operators: the key matches when the positive form matches none of the values.
bool negated(ConditionOp op) {
  switch (op) {
    case ConditionOp::StringNotEquals:
    case ConditionOp::StringNotEqualsIgnoreCase:
    case ConditionOp::StringNotLike:
    case ConditionOp::NumericNotEquals:
    case ConditionOp::DateNotEquals:
    case ConditionOp::NotIpAddress:
      return true;
    default:
      return false;
  }
}

// Parsed request value, converted once per (condition, request value) to the type
// the operator needs.
struct Typed {
  bool ok = false;
  double number = 0;
  int64_t time_ms = 0;
  bool boolean = false;
  IpNet ip;
};

Typed convert(ConditionOp op, std::string_view v) {
  Typed t;
  switch (op) {
    case ConditionOp::NumericEquals: case ConditionOp::NumericNotEquals:
    case ConditionOp::NumericLessThan: case ConditionOp::NumericLessThanEquals:
    case ConditionOp::NumericGreaterThan: case ConditionOp::NumericGreaterThanEquals:
      t.ok = parse_number(v, t.number);
      break;
    case ConditionOp::DateEquals: case ConditionOp::DateNotEquals:
    case ConditionOp::DateLessThan: case ConditionOp::DateLessThanEquals:
    case ConditionOp::DateGreaterThan: case ConditionOp::DateGreaterThanEquals:
      t.ok = parse_date(v, t.time_ms);
      break;
    case ConditionOp::Bool:
      t.ok = parse_bool(v, t.boolean);
      break;
    case ConditionOp::IpAddress: case ConditionOp::NotIpAddress:
      t.ok = parse_ip_addr(v, t.ip);
      break;
    default:
      t.ok = true;  // string operators use the text itself
  }
  return t;
}

// The positive form of `op` for one request value against one policy value.
bool positive(ConditionOp op, std::string_view v, const Typed& t, const ConditionValue& p) {
  switch (op) {
    case ConditionOp::StringEquals: case ConditionOp::StringNotEquals:
      return v == p.text;
    case ConditionOp::StringEqualsIgnoreCase: case ConditionOp::StringNotEqualsIgnoreCase:
      return iequals(v, p.text);
    case ConditionOp::StringLike: case ConditionOp::StringNotLike:
      return wildcard_match(p.text, v, false);
    case ConditionOp::NumericEquals: case ConditionOp::NumericNotEquals:
      return t.number == p.number;
    case ConditionOp::NumericLessThan: return t.number < p.number;
    case ConditionOp::NumericLessThanEquals: return t.number <= p.number;
    case ConditionOp::NumericGreaterThan: return t.number > p.number;
    case ConditionOp::NumericGreaterThanEquals: return t.number >= p.number;
    case ConditionOp::DateEquals: case ConditionOp::DateNotEquals:
      return t.time_ms == p.time_ms;
    case ConditionOp::DateLessThan: return t.time_ms < p.time_ms;
    case ConditionOp::DateLessThanEquals: return t.time_ms <= p.time_ms;
    case ConditionOp::DateGreaterThan: return t.time_ms > p.time_ms;
    case ConditionOp::DateGreaterThanEquals: return t.time_ms >= p.time_ms;
    case ConditionOp::Bool: return t.boolean == p.boolean;
    case ConditionOp::IpAddress: case ConditionOp::NotIpAddress:
      return ip_in_net(t.ip, p.net);
  }
  return false;
}

// One request value against the condition: OR over policy values (NOR for Not*).
bool value_matches(const Condition& c, std::string_view v) {
  Typed t = convert(c.op, v);
  if (!t.ok) return false;  // e.g. "abc" for a Numeric operator: never matches
  bool any = false;
  for (const ConditionValue& p : c.values) {
    if (positive(c.op, v, t, p)) {
      any = true;
      break;
    }
  }
  return negated(c.op) ? !any : any;
}

}  // namespace

std::string_view condition_op_name(ConditionOp op) {
  for (const OpName& o : kOps)
    if (o.op == op) return o.name;
  return {};
}

bool condition_op_from_name(std::string_view name, ConditionOp& out) {
  for (const OpName& o : kOps) {
    if (o.name == name) {
      out = o.op;
      return true;
    }
  }
  return false;
}

bool conditions_hold(const std::vector<Condition>& conds, const Context* ctx) {
  for (const Condition& c : conds) {
    // A key may be offered several times; the condition holds if any offered value
    // satisfies it. No value offered: the condition fails (also for Not* operators).
    bool held = false;
    if (ctx != nullptr) {
      for (const auto& [k, v] : ctx->all()) {
        if (k == c.key && value_matches(c, v)) {
          held = true;
          break;
        }
      }
    }
    if (!held) return false;
  }
  return true;
}

}  // namespace sluice::iam::policy
