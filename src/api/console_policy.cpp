// The parser reports syntax errors at a byte offset ("invalid JSON at offset
// 42: ...") and semantic ones at a path ("Statement[1].Condition: ..."). An
// editor wants a line and column: an offset converts exactly; a path is placed
// at the key it ends with, found by walking the text (statement by statement
// when the path names one).
#include <cstdlib>
#include <regex>

#include "api/console_policy.hpp"
#include "api/json_writer.hpp"
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

}  // namespace

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
  }
  w.end_object();
  return std::move(w.str());
}

}  // namespace sluice::api
