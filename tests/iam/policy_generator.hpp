#pragma once
// Random policy documents and requests for the differential test. Pools are small
// on purpose so that random requests often hit random statements (and both Deny and
// Allow, wildcards, NotAction/NotResource, scopes and conditions all get exercised).
#include <boost/json.hpp>

#include <random>
#include <string>
#include <utility>
#include <vector>

namespace sluice::iam::policy::gen {

namespace json = boost::json;

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(int percent) { return static_cast<int>(below(100)) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

  // ---- policy side
  std::string action_pattern() {
    static const std::vector<std::string> pool = {
        "mq:PUB", "mq:SUB", "MQ:pub", "mq:ListMqttInstance", "mq:MqttInstanceAccess", "ram:CreateUser", "mq:*",
        "mq:P*", "*:List*", "mq:?UB", "*", "mq:Apply*", "mq:ApplyToken", "ram:*", "mq:*Instance*", "sts:AssumeRole"};
    return pick(pool);
  }
  std::string resource_pattern() {
    static const std::vector<std::string> heads = {"acs:mq:*:*:", "acs:mq:local:1111:", "acs:mq:*:1111:", "acs:mq:loc?l:*:",
                                                   "acs:*:*:*:", "acs:mq:local:2222:"};
    static const std::vector<std::string> rels = {
        "topic/i1/T1", "topic/i1/T1/*", "topic/i1/*", "topic/i?/T?", "*", "topic/i2/T2/a", "topic/i1/T1/a",
        "groupId/i1/GID_*", "groupId/i1/GID_a", "instance/i1", "instance/*", "topic/*/T1", "topic/i1/T1*", "topic/i1/T",
        "topic/i1/\xC3\xA9*", "topic/i1/?\xC3\xA9", "x:topic/i1/T1"};
    switch (below(12)) {
      case 0: return "*";
      case 1: return "acs:mq*";
      case 2: return "acs:mq:*:*:*";
      default: return pick(heads) + pick(rels);
    }
  }

  json::value list(std::string (Gen::*f)(), size_t max) {
    if (chance(40)) return json::value((this->*f)());
    json::array a;
    size_t n = 1 + below(max);
    for (size_t i = 0; i < n; ++i) a.emplace_back((this->*f)());
    return a;
  }

  json::object condition() {
    struct OpGen {
      const char* op;
      std::vector<const char*> keys;
      std::vector<json::value> values;
    };
    static const std::vector<OpGen> ops = {
        {"StringEquals", {"mq:ClientId", "mq:GroupId"}, {"GID_a@@@1", "GID_a", "gid_a", "x"}},
        {"StringNotEquals", {"mq:ClientId", "mq:GroupId"}, {"GID_a@@@1", "GID_a", "x"}},
        {"StringEqualsIgnoreCase", {"mq:GroupId"}, {"gid_A", "GID_B"}},
        {"StringNotEqualsIgnoreCase", {"mq:GroupId"}, {"gid_A", "GID_B"}},
        {"StringLike", {"mq:ClientId", "mq:GroupId"}, {"GID_a@@@*", "GID_?", "*", "gid_*"}},
        {"StringNotLike", {"mq:ClientId"}, {"GID_a@@@*", "GID_b@@@?"}},
        {"NumericEquals", {"mq:Qos"}, {0, 1, "2", 1.5}},
        {"NumericNotEquals", {"mq:Qos"}, {0, 1, "2"}},
        {"NumericLessThan", {"mq:Qos"}, {1, 2, "0.5"}},
        {"NumericLessThanEquals", {"mq:Qos"}, {1, 2}},
        {"NumericGreaterThan", {"mq:Qos"}, {0, 1, "-1"}},
        {"NumericGreaterThanEquals", {"mq:Qos"}, {1, 2}},
        {"DateEquals", {"acs:CurrentTime"}, {"2026-01-01T00:00:00Z", 1767225600}},
        {"DateNotEquals", {"acs:CurrentTime"}, {"2026-01-01T00:00:00Z"}},
        {"DateLessThan", {"acs:CurrentTime"}, {"2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z", 1780000000}},
        {"DateLessThanEquals", {"acs:CurrentTime"}, {"2026-06-01T00:00:00Z"}},
        {"DateGreaterThan", {"acs:CurrentTime"}, {"2026-06-01T00:00:00Z", 1767225600}},
        {"DateGreaterThanEquals", {"acs:CurrentTime"}, {"2026-01-01T00:00:00Z"}},
        {"Bool", {"acs:SecureTransport", "acs:MFAPresent", "mq:Retain"}, {true, false, "true", "False"}},
        {"IpAddress", {"acs:SourceIp"}, {"10.0.0.0/8", "10.1.0.0/16", "192.168.1.7", "2001:db8::/32", "::1", "0.0.0.0/0", "fe80::/10", "10.1.2.3/8"}},
        {"NotIpAddress", {"acs:SourceIp"}, {"10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"}},
    };
    json::object c;
    size_t nops = 1 + below(2);
    for (size_t i = 0; i < nops; ++i) {
      const OpGen& g = ops[below(ops.size())];
      json::object keys;
      size_t nkeys = 1 + below(g.keys.size());
      for (size_t k = 0; k < nkeys; ++k) {
        const char* key = g.keys[below(g.keys.size())];
        if (chance(50)) {
          keys[key] = g.values[below(g.values.size())];
        } else {
          json::array a;
          size_t nv = 1 + below(3);
          for (size_t v = 0; v < nv; ++v) a.push_back(g.values[below(g.values.size())]);
          keys[key] = a;
        }
      }
      c[g.op] = keys;
    }
    return c;
  }

  std::string document(size_t max_statements) {
    json::array stmts;
    size_t n = 1 + below(max_statements);
    for (size_t i = 0; i < n; ++i) {
      json::object s;
      if (chance(30)) s["Sid"] = "s" + std::to_string(below(100));
      s["Effect"] = chance(30) ? "Deny" : "Allow";
      s[chance(12) ? "NotAction" : "Action"] = list(&Gen::action_pattern, 3);
      s[chance(12) ? "NotResource" : "Resource"] = list(&Gen::resource_pattern, 3);
      if (chance(30)) s["Condition"] = condition();
      stmts.push_back(std::move(s));
    }
    json::object doc;
    doc["Version"] = "1";
    if (n == 1 && chance(30)) doc["Statement"] = stmts[0];
    else doc["Statement"] = std::move(stmts);
    return json::serialize(doc);
  }

  // ---- request side
  std::string request_action() {
    static const std::vector<std::string> pool = {"mq:PUB", "mq:SUB", "Mq:Pub", "mq:ListMqttInstance", "mq:MqttInstanceAccess",
                                                  "ram:CreateUser", "mq:ApplyToken", "mq:PUBX", "ram:ListUsers", "sts:AssumeRole",
                                                  "mq:GetInstance", "mq:pub"};
    return pick(pool);
  }
  std::vector<std::string> request_resources() {
    static const std::vector<std::string> heads = {"acs:mq:local:1111:", "acs:mq:local:2222:", "acs:mq:other:1111:"};
    static const std::vector<std::string> inst = {"i1", "i2", "i3"};
    static const std::vector<std::string> topics = {"T1", "T2", "T", "T12", "\xC3\xA9t", "x\xC3\xA9"};
    static const std::vector<std::string> subs = {"a", "b/c", "+", "#", "a/#", "\xC3\xA9"};
    const std::string h = pick(heads), i = pick(inst);
    switch (below(10)) {
      case 0: return {h + "groupId/" + i + "/" + pick(std::vector<std::string>{"GID_a", "GID_b", "GID_"})};
      case 1: return {h + "instance/" + i};
      case 2: return {"acs:mq:local:1111:x:topic/i1/T1"};  // more than four ':'
      case 3: return {pick(std::vector<std::string>{"acs:mq:local:topic/i1/T1", "*", "", "acs:mq:local:1111:"})};
      default: {
        std::string parent = h + "topic/" + i + "/" + pick(topics);
        if (chance(40)) return {parent};
        return {parent + "/" + pick(subs), parent};
      }
    }
  }
  std::string request_rg() { return pick(std::vector<std::string>{"", "rg-1", "rg-2"}); }
  std::vector<std::pair<std::string, std::string>> context() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> keys = {
        {"mq:ClientId", {"GID_a@@@1", "GID_a@@@12", "GID_b@@@1", "x"}},
        {"mq:GroupId", {"GID_a", "gid_a", "GID_B", "GID_"}},
        {"mq:Qos", {"0", "1", "2", "1.5", "x"}},
        {"acs:CurrentTime", {"2026-01-01T00:00:00Z", "2026-11-28T01:00:00Z", "2027-03-01T00:00:00Z", "1767225600", "soon"}},
        {"acs:SecureTransport", {"true", "false", "TRUE", "1"}},
        {"acs:MFAPresent", {"true", "false"}},
        {"mq:Retain", {"true", "false"}},
        {"acs:SourceIp", {"10.1.2.3", "10.2.0.1", "192.168.1.7", "8.8.8.8", "2001:db8::5", "::1", "fe80::1", "::ffff:10.1.2.3", "garbage"}},
    };
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [k, vals] : keys) {
      if (chance(55)) out.emplace_back(k, pick(vals));
      if (chance(5)) out.emplace_back(k, pick(vals));  // a key offered twice
    }
    return out;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace sluice::iam::policy::gen
