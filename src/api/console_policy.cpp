// The parser reports syntax errors at a byte offset ("invalid JSON at offset
// 42: ...") and semantic ones at a path ("Statement[1].Condition: ..."). An
// editor wants a line and column: an offset converts exactly; a path is placed
// at the key it ends with, found by walking the text (statement by statement
// when the path names one).
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <set>

#include "api/console_policy.hpp"
#include "api/json_writer.hpp"
#include "api/rpc.hpp"
#include "iam/policy/policy.hpp"

namespace sluice::api {

namespace {

void place(std::string_view text, size_t offset, PolicyProblem& p) {
  offset = std::min(offset, text.size());
  p.line = 1;
  p.column = 1;
  for (size_t i = 0; i < offset; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++p.column;
    }
  }
}

// Offset of the n-th (0-based) element of the "Statement" array, or npos.
size_t statement_start(std::string_view text, size_t n) {
  size_t k = text.find("\"Statement\"");
  if (k == std::string_view::npos) return k;
  size_t b = text.find_first_of("[{", k);
  if (b == std::string_view::npos) return b;
  if (text[b] == '{') return n == 0 ? b : std::string_view::npos;
  // Walk the array, counting depth-1 objects; strings may hold brackets.
  int depth = 0;
  size_t seen = 0;
  bool in_str = false;
  for (size_t i = b; i < text.size(); ++i) {
    char c = text[i];
    if (in_str) {
      if (c == '\\') ++i;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '[' || c == '{') {
      if (depth == 1 && c == '{' && seen++ == n) return i;
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) break;
    }
  }
  return std::string_view::npos;
}

std::string lower(std::string_view v) {
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The RAM service code of a product's actions.
std::string service_of(const std::string& product) {
  if (product == "OnsMqtt") return "mq";
  return lower(product);  // Ram -> ram, ResourceManager -> resourcemanager, Sts, Actiontrail, Ons, Ims
}

// Every action the server authorizes, lowercased: "<service>:<Operation>" of
// every registered operation, and the actions no operation is named after
// (MQTT's PUB / SUB, instance access, the console's own). New operations are
// known as soon as they are registered.
const std::set<std::string>& known_actions() {
  static const std::set<std::string> known = [] {
    std::set<std::string> k;
    for (const Operation* op : all_operations().all()) k.insert(lower(service_of(op->product) + ":" + op->action));
    for (const char* a : {"mq:PUB", "mq:SUB", "mq:MqttInstanceAccess", "mq:OnsInstanceBaseInfo", "mq:MqttMetaData",
                          "mq:ListMqttInstance", "mq:SendMqttMessageByConsole", "mq:GetInstance"})
      k.insert(lower(a));
    return k;
  }();
  return known;
}

// Action / NotAction strings of every statement.
void collect_actions(const boost::json::value& doc, std::vector<std::string>& out) {
  const auto* o = doc.if_object();
  if (!o) return;
  const auto* st = o->if_contains("Statement");
  if (!st) return;
  auto one = [&](const boost::json::value& s) {
    const auto* so = s.if_object();
    if (!so) return;
    for (const char* key : {"Action", "NotAction"}) {
      const auto* a = so->if_contains(key);
      if (!a) continue;
      if (a->is_string()) out.emplace_back(a->as_string());
      if (a->is_array())
        for (const auto& x : a->as_array())
          if (x.is_string()) out.emplace_back(x.as_string());
    }
  };
  if (st->is_array())
    for (const auto& s : st->as_array()) one(s);
  else
    one(*st);
}

}  // namespace

std::vector<PolicyProblem> unknown_action_warnings(std::string_view text) {
  std::vector<PolicyProblem> out;
  boost::json::error_code ec;
  auto doc = boost::json::parse(text, ec);
  if (ec) return out;
  std::vector<std::string> actions;
  collect_actions(doc, actions);
  std::set<std::string> services;
  for (const auto& a : known_actions()) services.insert(a.substr(0, a.find(':')));
  std::set<std::string> warned;
  for (const auto& a : actions) {
    const auto colon = a.find(':');
    if (colon == std::string::npos || a.find_first_of("*?") != std::string::npos) continue;  // wildcards match many
    const std::string l = lower(a);
    if (!services.count(l.substr(0, colon)) || known_actions().count(l) || !warned.insert(l).second) continue;
    PolicyProblem p;
    p.message = "Unknown action \"" + a + "\": the " + a.substr(0, colon) +
                " service has no such action, so this statement never matches it. Check the spelling.";
    const size_t at = text.find("\"" + a + "\"");
    place(text, at == std::string_view::npos ? 0 : at + 1, p);
    out.push_back(std::move(p));
  }
  return out;
}

PolicyProblem check_policy_document(std::string_view text) {
  PolicyProblem p;
  auto r = iam::policy::parse(text);
  if (r.ok()) return p;
  p.message = r.error;
  static const std::regex offset_re(R"(at offset (\d+))");
  std::smatch m;
  if (std::regex_search(r.error, m, offset_re)) {
    place(text, std::strtoull(m[1].str().c_str(), nullptr, 10), p);
    return p;
  }
  // "MalformedPolicyDocument: Statement[1].Condition.StringEqual: ..."
  static const std::regex path_re(R"(^MalformedPolicyDocument: ((?:\w|[\[\].:*-])+): )");
  size_t from = 0;
  if (std::regex_search(r.error, m, path_re)) {
    const std::string path = m[1].str();
    static const std::regex stmt_re(R"(^Statement\[(\d+)\])");
    std::smatch sm;
    if (std::regex_search(path, sm, stmt_re)) {
      size_t at = statement_start(text, std::strtoull(sm[1].str().c_str(), nullptr, 10));
      if (at != std::string_view::npos) from = at;
    }
    // The last named key of the path, searched from the statement (or the start).
    std::string last = path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
    last = last.substr(0, last.find('['));
    if (!last.empty()) {
      size_t k = text.find("\"" + last + "\"", from);
      if (k != std::string_view::npos) from = k;
    }
  }
  place(text, from, p);
  return p;
}

std::string validate_policy_json(std::string_view document) {
  PolicyProblem p = check_policy_document(document);
  JsonWriter w;
  w.begin_object();
  w.field("valid", p.message.empty());
  if (!p.message.empty()) {
    w.key("errors").begin_array();
    w.begin_object();
    w.field("message", p.message);
    w.field("line", p.line);
    w.field("column", p.column);
    w.end_object();
    w.end_array();
  } else {
    // A valid document may still name actions no service has (a typo): warned, not refused, as the cloud's editor.
    auto warnings = unknown_action_warnings(document);
    if (!warnings.empty()) {
      w.key("warnings").begin_array();
      for (const auto& x : warnings) {
        w.begin_object();
        w.field("message", x.message);
        w.field("line", x.line);
        w.field("column", x.column);
        w.end_object();
      }
      w.end_array();
    }
  }
  w.end_object();
  return std::move(w.str());
}

}  // namespace sluice::api
