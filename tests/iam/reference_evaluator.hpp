#pragma once
// A deliberately plain second evaluator, written straight from the rules in
// docs/policy-evaluation.md, for the differential test. It shares nothing with the
// library's evaluator: it re-parses the JSON itself (boost::json), has its own
// wildcard matcher (a DP table over code points), its own condition code, no
// index and no cache. Slow and obvious on purpose.
#include <arpa/inet.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::iam::policy::reference {

namespace json = boost::json;

struct RefStatement {
  bool deny = false;
  std::string sid;
  bool not_action = false;
  std::vector<std::string> actions;
  bool not_resource = false;
  std::vector<std::string> resources;
  json::object condition;
};

struct RefGrant {
  bool rg_scoped = false;
  std::string rg;
  std::vector<RefStatement> statements;
};

struct RefDecision {
  int effect = 0;  // 0 implicit deny, 1 allow, 2 deny (same numbering as policy::Effect)
  int grant = -1;
  int statement = -1;
};

inline std::vector<std::string> ref_strings(const json::value& v) {
  std::vector<std::string> out;
  if (v.is_string()) out.emplace_back(v.get_string());
  else
    for (const json::value& e : v.get_array()) out.emplace_back(e.get_string());
  return out;
}

// Assumes a document the library accepted (the differential test only feeds those).
inline RefGrant ref_load(const std::string& text, bool rg_scoped, const std::string& rg) {
  RefGrant g;
  g.rg_scoped = rg_scoped;
  g.rg = rg;
  json::value root = json::parse(text);
  json::value st = root.at("Statement");
  json::array list;
  if (st.is_array()) list = st.get_array();
  else list.push_back(st);
  for (const json::value& s : list) {
    const json::object& o = s.get_object();
    RefStatement r;
    r.deny = o.at("Effect").get_string() == "Deny";
    if (o.contains("Sid")) r.sid = std::string(o.at("Sid").get_string());
    if (o.contains("Action")) r.actions = ref_strings(o.at("Action"));
    else { r.not_action = true; r.actions = ref_strings(o.at("NotAction")); }
    if (o.contains("Resource")) r.resources = ref_strings(o.at("Resource"));
    else { r.not_resource = true; r.resources = ref_strings(o.at("NotResource")); }
    if (o.contains("Condition")) r.condition = o.at("Condition").get_object();
    g.statements.push_back(std::move(r));
  }
  return g;
}

// --- wildcard: '*' any run of characters, '?' exactly one character (code point).
inline std::vector<std::string> ref_chars(const std::string& s, bool lower) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
    std::string c = s.substr(i, n);
    if (lower && n == 1 && c[0] >= 'A' && c[0] <= 'Z') c[0] = static_cast<char>(c[0] - 'A' + 'a');
    out.push_back(c);
    i += n;
  }
  return out;
}

inline bool ref_match(const std::string& pattern, const std::string& text, bool ignore_case) {
  std::vector<std::string> p = ref_chars(pattern, ignore_case), s = ref_chars(text, ignore_case);
  // dp[i][j]: p[0..i) matches s[0..j)
  std::vector<std::vector<char>> dp(p.size() + 1, std::vector<char>(s.size() + 1, 0));
  dp[0][0] = 1;
  for (size_t i = 1; i <= p.size(); ++i) {
    for (size_t j = 0; j <= s.size(); ++j) {
      if (p[i - 1] == "*") dp[i][j] = dp[i - 1][j] || (j > 0 && dp[i][j - 1]);
      else if (j > 0 && (p[i - 1] == "?" || p[i - 1] == s[j - 1])) dp[i][j] = dp[i - 1][j - 1];
    }
  }
  return dp[p.size()][s.size()];
}

// --- typed values
inline std::string ref_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  return json::serialize(v);
}

inline std::optional<double> ref_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (!(std::strchr("0123456789+-.eE", c))) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return d;
}

// The forms the generator writes: epoch seconds, "YYYY-MM-DDTHH:MM:SSZ".
inline std::optional<long long> ref_date(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s) * 1000;
  std::tm tm{};
  char z = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &z) != 7 || z != 'Z' || s.size() != 20)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long long>(timegm(&tm)) * 1000;
}

inline std::optional<bool> ref_bool(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "true") return true;
  if (s == "false") return false;
  return std::nullopt;
}

struct RefIp {
  int family = 0;
  unsigned char b[16]{};
  int bits = 0;
};

inline std::optional<RefIp> ref_ip(const std::string& s, bool allow_prefix) {
  RefIp ip;
  std::string host = s;
  int bits = -1;
  if (auto slash = s.find('/'); slash != std::string::npos) {
    if (!allow_prefix) return std::nullopt;
    host = s.substr(0, slash);
    bits = std::atoi(s.substr(slash + 1).c_str());
  }
  if (inet_pton(AF_INET, host.c_str(), ip.b) == 1) {
    ip.family = 4;
    ip.bits = bits < 0 ? 32 : bits;
  } else if (inet_pton(AF_INET6, host.c_str(), ip.b) == 1) {
    ip.family = 6;
    ip.bits = bits < 0 ? 128 : bits;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!allow_prefix && std::memcmp(ip.b, mapped, 12) == 0) {  // request side: ::ffff:a.b.c.d is IPv4
      std::memmove(ip.b, ip.b + 12, 4);
      ip.family = 4;
      ip.bits = 32;
    }
  } else {
    return std::nullopt;
  }
  return ip;
}

inline bool ref_in(const RefIp& a, const RefIp& net) {
  if (a.family != net.family) return false;
  for (int i = 0; i < net.bits; ++i) {
    int bit_a = (a.b[i / 8] >> (7 - i % 8)) & 1, bit_n = (net.b[i / 8] >> (7 - i % 8)) & 1;
    if (bit_a != bit_n) return false;
  }
  return true;
}

// One request value against one policy value for the positive form of `op`.
inline bool ref_positive(const std::string& op, const std::string& v, const std::string& p) {
  auto lower = [](std::string s) {
    for (char& c : s) if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  };
  if (op == "StringEquals" || op == "StringNotEquals") return v == p;
  if (op == "StringEqualsIgnoreCase" || op == "StringNotEqualsIgnoreCase") return lower(v) == lower(p);
  if (op == "StringLike" || op == "StringNotLike") return ref_match(p, v, false);
  if (op.rfind("Numeric", 0) == 0) {
    double a = *ref_number(v), b = *ref_number(p);
    if (op == "NumericEquals" || op == "NumericNotEquals") return a == b;
    if (op == "NumericLessThan") return a < b;
    if (op == "NumericLessThanEquals") return a <= b;
    if (op == "NumericGreaterThan") return a > b;
    return a >= b;
  }
  if (op.rfind("Date", 0) == 0) {
    long long a = *ref_date(v), b = *ref_date(p);
    if (op == "DateEquals" || op == "DateNotEquals") return a == b;
    if (op == "DateLessThan") return a < b;
    if (op == "DateLessThanEquals") return a <= b;
    if (op == "DateGreaterThan") return a > b;
    return a >= b;
  }
  if (op == "Bool") return *ref_bool(v) == *ref_bool(p);
  return ref_in(*ref_ip(v, false), *ref_ip(p, true));  // IpAddress, NotIpAddress
}

inline bool ref_value_ok(const std::string& op, const std::string& v) {
  if (op.rfind("Numeric", 0) == 0) return ref_number(v).has_value();
  if (op.rfind("Date", 0) == 0) return ref_date(v).has_value();
  if (op == "Bool") return ref_bool(v).has_value();
  if (op == "IpAddress" || op == "NotIpAddress") return ref_ip(v, false).has_value();
  return true;
}

using RefContext = std::vector<std::pair<std::string, std::string>>;

inline bool ref_conditions(const json::object& cond, const RefContext& ctx) {
  for (const auto& [opname, keys] : cond) {
    std::string op(opname);
    bool negated = op == "StringNotEquals" || op == "StringNotEqualsIgnoreCase" || op == "StringNotLike" ||
                   op == "NumericNotEquals" || op == "DateNotEquals" || op == "NotIpAddress";
    for (const auto& [key, vals] : keys.get_object()) {
      std::vector<std::string> policy_values;
      if (vals.is_array())
        for (const json::value& x : vals.get_array()) policy_values.push_back(ref_text(x));
      else
        policy_values.push_back(ref_text(vals));
      bool key_holds = false;  // absent key: false
      for (const auto& [k, v] : ctx) {
        if (k != std::string(key) || !ref_value_ok(op, v)) continue;
        bool any = false;
        for (const std::string& p : policy_values) any = any || ref_positive(op, v, p);
        if (negated ? !any : any) key_holds = true;
      }
      if (!key_holds) return false;
    }
  }
  return true;
}

inline bool ref_statement_matches(const RefStatement& s, const std::string& action,
                                  const std::vector<std::string>& resources, const RefContext& ctx) {
  bool action_listed = false;
  for (const std::string& a : s.actions) action_listed = action_listed || ref_match(a, action, true);
  if (action_listed == s.not_action) return false;
  bool resource_ok = false;
  for (const std::string& r : resources) {
    bool listed = false;
    for (const std::string& p : s.resources) listed = listed || ref_match(p, r, false);
    if (listed != s.not_resource) resource_ok = true;
  }
  if (!resource_ok) return false;
  return ref_conditions(s.condition, ctx);
}

inline RefDecision ref_decide(const std::vector<RefGrant>& grants, const std::string& action,
                              const std::vector<std::string>& resources, const std::string& rg, const RefContext& ctx) {
  RefDecision allow;
  for (size_t g = 0; g < grants.size(); ++g) {
    if (grants[g].rg_scoped && grants[g].rg != rg) continue;
    for (size_t i = 0; i < grants[g].statements.size(); ++i) {
      const RefStatement& s = grants[g].statements[i];
      if (!ref_statement_matches(s, action, resources, ctx)) continue;
      if (s.deny) return RefDecision{2, static_cast<int>(g), static_cast<int>(i)};  // first Deny wins
      if (allow.effect == 0) allow = RefDecision{1, static_cast<int>(g), static_cast<int>(i)};
    }
  }
  return allow;
}

}  // namespace sluice::iam::policy::reference
