// Data rules of an instance (issue 19, docs/rules.md): what they are, checked
// here once for every caller (API, admin CLI); src/rules runs them.
#include <boost/json.hpp>
#include <cctype>

#include "common/crypto.hpp"
#include "common/egress.hpp"
#include "mq/internal.hpp"
#include "mq/sealed_config.hpp"
#include "store/crypto.hpp"
#include "mqtt/topic.hpp"

namespace sluice::mq {

using namespace detail;

namespace json = boost::json;

namespace {

constexpr size_t kRulesPerInstance = 100;  // the cloud's limit per instance

bool one_of(std::string_view v, std::initializer_list<std::string_view> set) {
  for (auto s : set)
    if (v == s) return true;
  return false;
}

std::string str_field(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A URL as it may be shown (errors, which are audited): a password in it
// (postgresql://user:pw@host) hidden.
std::string shown_url(std::string_view url) {
  std::string s(url);
  const auto scheme = s.find("://"), at = s.rfind('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    const auto colon = s.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "******");
  }
  return s;
}

// "scheme://host[:port][/path]": the scheme one of `schemes`, a host, a port
// 1..65535 (split as the connections split it: common::split_url_host).
std::optional<Error> check_url(std::string_view url, std::initializer_list<std::string_view> schemes) {
  const auto sep = url.find("://");
  std::string allowed;
  for (auto s : schemes) allowed += (allowed.empty() ? "" : ", ") + std::string(s) + "://";
  if (sep == std::string_view::npos || !one_of(url.substr(0, sep), schemes))
    return bad("TargetConfig", "The Url \"" + shown_url(url) + "\" must start with " + allowed + ".");
  std::string why;
  const auto u = common::split_url_host(url, &why);
  if (!u) return bad("TargetConfig", "The Url \"" + shown_url(url) + "\" " + why + ".");
  for (char ch : u->host)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':'))
      return bad("TargetConfig", "The Url \"" + shown_url(url) + "\" has an invalid host.");
  return std::nullopt;
}

// The Url's host must be one the server may connect to for a tenant
// (common/egress.hpp): checked again at every connection.
std::optional<Error> check_egress(std::string_view url, int default_port) {
  const auto u = common::split_url_host(url);
  if (!u) return std::nullopt;  // check_url has refused it
  const std::string why = common::egress_policy().refused_host(u->host, u->port ? u->port : default_port);
  if (why.empty()) return std::nullopt;
  return bad("TargetConfig", "The Url \"" + shown_url(url) + "\" is refused: " + why + ".");
}

bool sql_identifier(std::string_view s) {
  if (s.empty() || s.size() > 63 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char ch : s)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
  return true;
}

bool nats_subject(std::string_view s) {
  if (s.empty() || s.size() > 255 || s.front() == '.' || s.back() == '.') return false;
  for (char ch : s)
    if (ch == ' ' || ch == '*' || ch == '>' || static_cast<unsigned char>(ch) < 0x21) return false;
  return s.find("..") == std::string_view::npos;
}

// Every field of a rule, checked together; the first bad one is the error.
std::optional<Error> check_rule(const Rule& r) {
  if (r.name.empty() || r.name.size() > 64) return bad("RuleName", "RuleName must be 1 to 64 characters.");
  for (char ch : r.name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-'))
      return bad("RuleName", "RuleName may hold only letters, digits, '_' and '-'.");
  if (!one_of(r.type, {"outflow", "inflow", "status"}))
    return bad("RuleType", "RuleType must be outflow, inflow or status.");
  if (!one_of(r.target_type, {"webhook", "nats", "postgres", "mqtt"}))
    return bad("TargetType", "TargetType must be webhook, nats, postgres or mqtt.");
  if (r.type == "outflow") {
    if (auto e = check_filter("SourceTopic", r.source_topic)) return e;
    if (!mqtt::valid_topic_filter(r.source_topic) || r.source_topic.rfind("$share/", 0) == 0)
      return bad("SourceTopic", "SourceTopic must be a topic filter (parent topic, '+' and '#' wildcards, no $share): \"" +
                                    r.source_topic + "\".");
  } else if (r.type == "inflow") {
    if (r.target_type != "nats")
      return bad("TargetType", "An inflow rule reads from NATS: TargetType must be nats (its Subject is the source).");
    if (!mqtt::valid_topic_name(r.source_topic))
      return bad("SourceTopic", "An inflow rule's SourceTopic is the MQTT topic its messages are published on "
                                "(no wildcards): \"" + r.source_topic + "\".");
  } else if (!r.source_topic.empty()) {
    return bad("SourceTopic", "A status rule has no SourceTopic: it carries every client's connect, disconnect and "
                              "tcpclean events.");
  }
  if (r.target_config.size() > 8192) return bad("TargetConfig", "TargetConfig must be at most 8192 characters.");
  json::error_code ec;
  json::value v = json::parse(r.target_config, ec);
  if (ec || !v.is_object()) return bad("TargetConfig", "TargetConfig must be a JSON object, e.g. {\"Url\":\"http://host/path\"}.");
  const auto& o = v.as_object();
  for (const auto& kv : o)
    if (!kv.value().is_string() && !kv.value().is_int64())
      return bad("TargetConfig", "TargetConfig's \"" + std::string(kv.key()) + "\" must be a string or an integer.");
  // LingerMs (webhook, nats): how long a rule's worker may wait for a batch to fill.
  if (const auto* l = o.if_contains("LingerMs")) {
    const std::string t = l->is_int64() ? std::to_string(l->as_int64()) : str_field(o, "LingerMs");
    int n = 0;
    for (char ch : t) n = (ch >= '0' && ch <= '9' && n <= 1000) ? n * 10 + (ch - '0') : 100000;
    if (t.empty() || n > 1000) return bad("TargetConfig", "LingerMs must be an integer from 0 to 1000.");
  }
  // Batch (webhook, nats): entries per POST / per JetStream message at most (NDJSON); 1: one each.
  if (const auto* b = o.if_contains("Batch"); b && (r.target_type == "webhook" || r.target_type == "nats")) {
    const std::string t = b->is_int64() ? std::to_string(b->as_int64()) : str_field(o, "Batch");
    int n = 0;
    for (char ch : t) n = (ch >= '0' && ch <= '9' && n <= 1000) ? n * 10 + (ch - '0') : 100000;
    if (t.empty() || n < 1 || n > 1000) return bad("TargetConfig", "Batch must be an integer from 1 to 1000.");
  }
  if (r.target_type == "webhook") {
    const std::string url = str_field(o, "Url");
    if (url.empty()) return bad("TargetConfig", "A webhook target needs {\"Url\": \"http[s]://host[:port]/path\"}.");
    if (auto e = check_url(url, {"http", "https"})) return e;
    if (auto e = check_egress(url, url.compare(0, 8, "https://") == 0 ? 443 : 80)) return e;
    // CaCert: the CA (PEM) an https receiver's certificate must chain to, instead of the system's.
    const std::string ca = str_field(o, "CaCert");
    if (!ca.empty() && (url.compare(0, 8, "https://") != 0 || ca.find("-----BEGIN CERTIFICATE-----") == std::string::npos))
      return bad("TargetConfig", "CaCert is a PEM certificate (-----BEGIN CERTIFICATE-----) for an https Url.");
    if (str_field(o, "Secret").size() > 256) return bad("TargetConfig", "The webhook Secret must be at most 256 characters.");
    const std::string body = str_field(o, "Body");
    if (!body.empty() && !one_of(body, {"json", "raw"})) return bad("TargetConfig", "Body must be json or raw.");
  } else if (r.target_type == "nats") {
    const std::string url = str_field(o, "Url");
    if (url.empty()) return bad("TargetConfig", "A nats target needs {\"Url\": \"nats://host:4222\", \"Subject\": \"a.b\"}.");
    if (auto e = check_url(url, {"nats"})) return e;
    if (auto e = check_egress(url, 4222)) return e;
    if (const auto u = common::split_url_host(url); u && !u->rest.empty() && u->rest != "/")
      return bad("TargetConfig", "A NATS Url is nats://[user:password@]host[:port], one server, nothing after it.");
    if (!nats_subject(str_field(o, "Subject")))
      return bad("TargetConfig", "Subject must be a NATS subject without wildcards, e.g. \"devices.telemetry\".");
  } else if (r.target_type == "postgres") {
    const std::string url = str_field(o, "Url");
    if (url.empty()) return bad("TargetConfig", "A postgres target needs {\"Url\": \"postgresql://user@host/db\", \"Table\": \"t\"}.");
    if (auto e = check_url(url, {"postgres", "postgresql"})) return e;
    if (auto e = check_egress(url, 5432)) return e;
    if (const std::string p = common::postgres_param_refused(url); !p.empty())
      return bad("TargetConfig", "The PostgreSQL Url's parameter \"" + p + "\" is not allowed in a rule (allowed: "
                                 "sslmode, application_name, connect_timeout, target_session_attrs, options).");
    if (!sql_identifier(str_field(o, "Table")))
      return bad("TargetConfig", "Table must be an SQL identifier (letters, digits, '_'; at most 63).");
  } else if (r.target_type == "mqtt") {
    const std::string topic = str_field(o, "Topic");
    if (!mqtt::valid_topic_name(topic))
      return bad("TargetConfig", "An mqtt target needs {\"Topic\": \"a/b\"}: a topic name, no wildcards.");
    if (r.type == "outflow" && mqtt::topic_matches(r.source_topic, topic))
      return bad("TargetConfig", "Loop: the target Topic \"" + topic + "\" matches the rule's own SourceTopic \"" +
                                     r.source_topic + "\".");
  }
  return std::nullopt;
}

std::string config_of(const Rule& r, std::string_view key) {
  json::error_code ec;
  json::value v = json::parse(r.target_config, ec);
  return ec || !v.is_object() ? std::string() : str_field(v.as_object(), key);
}

std::string nats_key(const Rule& r) {
  json::error_code ec;
  json::value v = json::parse(r.target_config, ec);
  if (ec || !v.is_object()) return {};
  return str_field(v.as_object(), "Url") + " " + str_field(v.as_object(), "Subject");
}

// What a rule puts back into the system: an MQTT topic (an outflow's mqtt
// target, an inflow's SourceTopic) or a NATS subject (an outflow's nats target).
std::string produced_topic(const Rule& r) {
  if (r.type == "inflow") return r.source_topic;
  if (r.type == "outflow" && r.target_type == "mqtt") return config_of(r, "Topic");
  return {};
}
std::string produced_subject(const Rule& r) {
  return r.type == "outflow" && r.target_type == "nats" ? nats_key(r) : std::string();
}
// Does what `a` produces feed `b`?
bool feeds(const Rule& a, const Rule& b) {
  if (b.type == "outflow") {
    const std::string t = produced_topic(a);
    return !t.empty() && mqtt::topic_matches(b.source_topic, t);
  }
  if (b.type == "inflow") {
    const std::string s = produced_subject(a);
    return !s.empty() && s == nats_key(b);
  }
  return false;
}

// A loop: the new rule's output comes back to it through the instance's rules
// (each message would go round for ever). Depth-first from `r`.
std::optional<Error> check_loops(const Rule& r, const std::vector<Rule>& others) {
  std::vector<const Rule*> rules{&r};
  for (const auto& o : others)
    if (o.name != r.name) rules.push_back(&o);
  std::vector<size_t> path{0}, next{0};
  std::vector<bool> seen(rules.size(), false);
  seen[0] = true;
  while (!path.empty()) {
    const size_t at = path.back();
    size_t& i = next.back();
    if (i >= rules.size()) {
      path.pop_back();
      next.pop_back();
      continue;
    }
    const size_t to = i++;
    if (!feeds(*rules[at], *rules[to])) continue;
    if (to == 0) {
      std::string chain;
      for (size_t p : path) chain += "\"" + rules[p]->name + "\" -> ";
      return bad("TargetConfig", "Loop: what rule \"" + r.name + "\" sends comes back to it (" + chain + "\"" +
                                     r.name + "\"); messages would go round for ever.");
    }
    if (seen[to]) continue;
    seen[to] = true;
    path.push_back(to);
    next.push_back(0);
  }
  return std::nullopt;
}

}  // namespace

namespace {
constexpr std::string_view kSealedPrefix = "sealed1:";
std::string config_aad(std::string_view instance_id, std::string_view name) {
  return "rule:" + std::string(instance_id) + "/" + std::string(name);
}
}  // namespace

std::string seal_target_config(const store::SecretBox& box, std::string_view instance_id, std::string_view name,
                               std::string_view config) {
  return std::string(kSealedPrefix) + common::base64_encode(box.seal(config, config_aad(instance_id, name)));
}

std::optional<std::string> open_target_config(const store::SecretBox& box, std::string_view instance_id,
                                              std::string_view name, std::string_view stored) {
  if (stored.substr(0, kSealedPrefix.size()) != kSealedPrefix) return std::string(stored);  // written before sealing
  auto blob = common::base64_decode(stored.substr(kSealedPrefix.size()));
  if (!blob) return std::nullopt;
  return box.open(*blob, config_aad(instance_id, name));
}

std::string shown_target_config(const std::string& cfg) {
  boost::json::error_code ec;
  auto v = boost::json::parse(cfg, ec);
  if (ec || !v.is_object()) return cfg;
  auto& o = v.as_object();
  if (o.contains("Secret")) o["Secret"] = "******";
  for (const char* k : {"Url"}) {  // a password in a URL (postgres://user:pw@host) is hidden too
    if (auto* u = o.if_contains(k); u && u->is_string()) o[k] = shown_url(u->as_string());
  }
  return boost::json::serialize(v);
}

Result<Rule> MqService::CreateRule(std::string_view account_id, const Rule& spec) {
  if (auto s = owned_instance(account_id, spec.instance_id); !s) return s.error();
  if (auto e = check_rule(spec)) return *e;
  const auto& existing = state()->instance(spec.instance_id)->rules;
  if (auto e = check_loops(spec, existing)) return *e;
  Rule r = spec;
  r.created_ms = r.updated_ms = now_ms();
  return write(account_id, [&](store::Db& db) -> Result<Rule> {
    if (db.query("SELECT 1 FROM mq_rules WHERE instance_id = ? AND name = ?", r.instance_id, r.name).step())
      return already_exists("EntityAlreadyExists.Rule",
                            "A rule named \"" + r.name + "\" exists on this instance; use UpdateRule.");
    auto q = db.query("SELECT COUNT(*) FROM mq_rules WHERE instance_id = ?", r.instance_id);
    if (q.step() && static_cast<size_t>(q.int64(0)) >= kRulesPerInstance)
      return Error{"LimitExceeded.Rule", 400, "An instance has at most 100 rules; delete one first."};
    db.run("INSERT INTO mq_rules VALUES (?, ?, ?, ?, ?, ?, ?, ?)", r.instance_id, r.name, r.type, r.source_topic,
           r.target_type, seal_target_config(store_->box(), r.instance_id, r.name, r.target_config), r.created_ms,
           r.updated_ms);
    return r;
  });
}

Result<Rule> MqService::UpdateRule(std::string_view account_id, const Rule& spec) {
  if (auto s = owned_instance(account_id, spec.instance_id); !s) return s.error();
  if (auto e = check_rule(spec)) return *e;
  if (auto e = check_loops(spec, state()->instance(spec.instance_id)->rules)) return *e;
  Rule r = spec;
  r.updated_ms = now_ms();
  return write(account_id, [&](store::Db& db) -> Result<Rule> {
    auto q = db.query("SELECT rule_type, created_ms FROM mq_rules WHERE instance_id = ? AND name = ?", r.instance_id,
                      r.name);
    if (!q.step()) return not_exist("EntityNotExist.Rule", "The rule \"" + r.name + "\" does not exist.");
    if (q.text(0) != r.type)
      return bad("RuleType", "A rule's RuleType cannot change (it is " + q.text(0) + "); delete it and create another.");
    r.created_ms = q.int64(1);
    db.run("UPDATE mq_rules SET source_topic = ?, target_type = ?, target_config = ?, updated_ms = ? "
           "WHERE instance_id = ? AND name = ?",
           r.source_topic, r.target_type, seal_target_config(store_->box(), r.instance_id, r.name, r.target_config),
           r.updated_ms, r.instance_id, r.name);
    return r;
  });
}

Result<Rule> MqService::GetRule(std::string_view account_id, std::string_view instance_id, std::string_view name) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  for (const auto& r : state()->instance(instance_id)->rules)
    if (r.name == name) return r;
  return not_exist("EntityNotExist.Rule", "The rule \"" + std::string(name) + "\" does not exist.");
}

Result<std::vector<Rule>> MqService::ListRules(std::string_view account_id, std::string_view instance_id) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  return state()->instance(instance_id)->rules;
}

Status MqService::DeleteRule(std::string_view account_id, std::string_view instance_id, std::string_view name) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s;
  return change_one(account_id, not_exist("EntityNotExist.Rule", "The rule \"" + std::string(name) + "\" does not exist."),
                    "DELETE FROM mq_rules WHERE instance_id = ? AND name = ?", instance_id, name);
}

}  // namespace sluice::mq
