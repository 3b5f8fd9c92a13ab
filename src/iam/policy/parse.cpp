// Policy document parser: boost::json for the syntax, then a full walk that
// validates every element and names the first problem and where it is.
#include <boost/json.hpp>

#include <string>

#include "iam/policy/document.hpp"
#include "iam/policy/json_checks.hpp"
#include "iam/policy/values.hpp"

namespace sluice::iam::policy {

namespace {

namespace json = boost::json;

// Thrown inside the walk, caught in parse(): keeps every check a one-liner.
struct Malformed {
  std::string where;
  std::string what;
};

[[noreturn]] void fail(const std::string& where, std::string what) { throw Malformed{where, std::move(what)}; }

std::string quoted(std::string_view s) {
  std::string out = "\"";
  // Bound the echo: the message goes into API errors and logs.
  if (s.size() > 80) {
    out.append(s.substr(0, 77));
    out += "...";
  } else {
    out.append(s);
  }
  out += '"';
  return out;
}

const char* kind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64: case json::kind::uint64: case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

std::string sv(const json::string& s) { return std::string(s.data(), s.size()); }

bool valid_action_part(std::string_view s, bool service) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '*' ||
              c == '?' || c == '-' || c == '_' || (!service && c == '.');
    if (!ok) return false;
  }
  return true;
}

void check_action(const std::string& where, std::string_view a) {
  if (a == "*") return;
  size_t colon = a.find(':');
  if (colon == std::string_view::npos || !valid_action_part(a.substr(0, colon), true) ||
      !valid_action_part(a.substr(colon + 1), false))
    fail(where, "invalid action " + quoted(a) + " (expected \"<service>:<Action>\" or \"*\")");
}

void check_resource(const std::string& where, std::string_view r) {
  if (r == "*") return;
  if (r.substr(0, 4) != "acs:")
    fail(where, "invalid resource " + quoted(r) + " (expected \"acs:<service>:<region>:<account>:<id>\" or \"*\")");
  for (char c : r)
    if (static_cast<unsigned char>(c) < 0x20) fail(where, "control character in resource");
}

// Action/Resource (and their Not* forms): a string or a non-empty array of strings.
std::vector<std::string> string_list(const std::string& where, const json::value& v, bool actions) {
  std::vector<std::string> out;
  auto one = [&](const std::string& w, const json::value& e) {
    if (!e.is_string()) fail(w, std::string("must be a string, not ") + kind(e));
    std::string s = sv(e.get_string());
    if (actions) check_action(w, s);
    else check_resource(w, s);
    out.push_back(std::move(s));
  };
  if (v.is_array()) {
    const json::array& a = v.get_array();
    if (a.empty()) fail(where, "must not be empty");
    for (size_t i = 0; i < a.size(); ++i) one(where + "[" + std::to_string(i) + "]", a[i]);
  } else {
    one(where, v);
  }
  return out;
}

bool is_numeric_op(ConditionOp op) { return op >= ConditionOp::NumericEquals && op <= ConditionOp::NumericGreaterThanEquals; }
bool is_date_op(ConditionOp op) { return op >= ConditionOp::DateEquals && op <= ConditionOp::DateGreaterThanEquals; }

ConditionValue condition_value(const std::string& where, ConditionOp op, const json::value& v) {
  ConditionValue cv;
  switch (v.kind()) {
    case json::kind::string: cv.text = sv(v.get_string()); break;
    case json::kind::bool_: cv.text = v.get_bool() ? "true" : "false"; break;
    case json::kind::int64: case json::kind::uint64: case json::kind::double_:
      cv.text = json::serialize(v);
      break;
    default:
      fail(where, std::string("condition value must be a string, number or boolean, not ") + kind(v));
  }
  if (is_numeric_op(op)) {
    if (v.is_bool() || !parse_number(cv.text, cv.number))
      fail(where, "not a number: " + quoted(cv.text));
  } else if (is_date_op(op)) {
    if (v.is_bool() || v.is_double() || !parse_date(cv.text, cv.time_ms))
      fail(where, "not an ISO 8601 date or epoch seconds: " + quoted(cv.text));
  } else if (op == ConditionOp::Bool) {
    if (!(v.is_bool() || v.is_string()) || !parse_bool(cv.text, cv.boolean))
      fail(where, "not a boolean (true or false): " + quoted(cv.text));
  } else if (op == ConditionOp::IpAddress || op == ConditionOp::NotIpAddress) {
    if (!v.is_string() || !parse_ip_net(cv.text, cv.net))
      fail(where, "not an IP address or CIDR block: " + quoted(cv.text));
  }
  return cv;
}

std::vector<Condition> conditions(const std::string& where, const json::value& v) {
  if (!v.is_object()) fail(where, std::string("must be an object, not ") + kind(v));
  std::vector<Condition> out;
  for (const auto& [opname, keys] : v.get_object()) {
    ConditionOp op;
    if (!condition_op_from_name(std::string_view(opname.data(), opname.size()), op))
      fail(where, "unknown operator " + quoted(std::string_view(opname.data(), opname.size())));
    const std::string opwhere = where + "." + std::string(opname.data(), opname.size());
    if (!keys.is_object()) fail(opwhere, std::string("must be an object of condition keys, not ") + kind(keys));
    if (keys.get_object().empty()) fail(opwhere, "must name at least one condition key");
    for (const auto& [key, values] : keys.get_object()) {
      Condition c;
      c.op = op;
      c.key.assign(key.data(), key.size());
      if (c.key.empty()) fail(opwhere, "empty condition key");
      const std::string kwhere = opwhere + "." + c.key;
      if (values.is_array()) {
        const json::array& a = values.get_array();
        if (a.empty()) fail(kwhere, "must not be empty");
        for (size_t i = 0; i < a.size(); ++i)
          c.values.push_back(condition_value(kwhere + "[" + std::to_string(i) + "]", op, a[i]));
      } else {
        c.values.push_back(condition_value(kwhere, op, values));
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

Statement statement(const std::string& where, const json::value& v) {
  if (!v.is_object()) fail(where, std::string("a statement must be an object, not ") + kind(v));
  const json::object& o = v.get_object();
  Statement st;
  bool has_effect = false, has_action = false, has_resource = false;
  for (const auto& [k, val] : o) {
    std::string_view key(k.data(), k.size());
    const std::string w = where + "." + std::string(key);
    if (key == "Sid") {
      if (!val.is_string()) fail(w, std::string("must be a string, not ") + kind(val));
      st.sid = sv(val.get_string());
      st.has_sid = true;
    } else if (key == "Effect") {
      if (!val.is_string()) fail(w, std::string("must be \"Allow\" or \"Deny\", not ") + kind(val));
      std::string_view e(val.get_string().data(), val.get_string().size());
      if (e == "Allow") st.effect = Effect::Allow;
      else if (e == "Deny") st.effect = Effect::Deny;
      else fail(w, "must be \"Allow\" or \"Deny\", not " + quoted(e));
      has_effect = true;
    } else if (key == "Action" || key == "NotAction") {
      if (has_action) fail(where, "has both Action and NotAction");
      st.not_action = key == "NotAction";
      st.actions = string_list(w, val, true);
      has_action = true;
    } else if (key == "Resource" || key == "NotResource") {
      if (has_resource) fail(where, "has both Resource and NotResource");
      st.not_resource = key == "NotResource";
      st.resources = string_list(w, val, false);
      has_resource = true;
    } else if (key == "Condition") {
      st.conditions = conditions(w, val);
    } else {
      fail(where, "unknown key " + quoted(key));
    }
  }
  st.has_action_aids = true;
  for (const std::string& a : st.actions) {
    if (a.find_first_of("*?") != std::string::npos) st.wild_actions = true;
    else st.action_bloom |= uint64_t{1} << (action_hash(a) >> 58);
  }
  if (!has_effect) fail(where, "missing Effect");
  if (!has_action) fail(where, "missing Action or NotAction");
  if (!has_resource) fail(where, "missing Resource or NotResource");
  return st;
}

Document document(const json::value& root) {
  if (!root.is_object()) fail("", std::string("the document must be an object, not ") + kind(root));
  Document doc;
  bool has_version = false, has_statement = false;
  for (const auto& [k, val] : root.get_object()) {
    std::string_view key(k.data(), k.size());
    if (key == "Version") {
      if (!val.is_string() || val.get_string() != "1")
        fail("Version", "must be \"1\", not " + (val.is_string() ? quoted(val.get_string()) : std::string(kind(val))));
      doc.version = "1";
      has_version = true;
    } else if (key == "Statement") {
      has_statement = true;
      if (val.is_array()) {
        const json::array& a = val.get_array();
        if (a.empty()) fail("Statement", "must not be empty");
        for (size_t i = 0; i < a.size(); ++i)
          doc.statements.push_back(statement("Statement[" + std::to_string(i) + "]", a[i]));
      } else if (val.is_object()) {
        doc.statements.push_back(statement("Statement", val));
      } else {
        fail("Statement", std::string("must be an array or an object, not ") + kind(val));
      }
    } else {
      fail("", "unknown key " + quoted(key));
    }
  }
  if (!has_version) fail("", "missing Version");
  if (!has_statement) fail("", "missing Statement");
  return doc;
}

ParseResult error(const std::string& where, const std::string& what) {
  ParseResult r;
  r.error = "MalformedPolicyDocument: " + (where.empty() ? what : where + ": " + what);
  return r;
}

}  // namespace

ParseResult parse(std::string_view text, size_t max_chars) {
  size_t n = counted_chars(text);
  if (n > max_chars)
    return error("", "the document has " + std::to_string(n) + " characters (whitespace excluded); the limit is " +
                         std::to_string(max_chars));
  json::error_code ec;
  json::stream_parser sp;
  size_t used = sp.write(text.data(), text.size(), ec);
  if (!ec) sp.finish(ec);
  if (ec) {
    // Name the position: an offset is what an editor can jump to.
    return error("", "invalid JSON at offset " + std::to_string(used) + ": " + ec.message());
  }
  json::value root = sp.release();
  std::string dup = first_duplicate_key(text);
  if (!dup.empty()) return error(dup, "duplicate key");
  try {
    auto doc = std::make_shared<Document>(document(root));
    ParseResult r;
    r.doc = std::move(doc);
    return r;
  } catch (const Malformed& m) {
    return error(m.where, m.what);
  }
}

}  // namespace sluice::iam::policy
