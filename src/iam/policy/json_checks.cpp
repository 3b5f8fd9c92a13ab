// A second, SAX-style pass over the document with boost::json::basic_parser:
// only to find duplicate object keys (and name where they are).
#include "iam/policy/json_checks.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <string>
#include <vector>

namespace sluice::iam::policy {

size_t counted_chars(std::string_view json) {
  size_t n = 0;
  bool in_string = false, escaped = false;
  for (char c : json) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u & 0xC0) == 0x80) continue;  // continuation byte: part of the previous char
    if (in_string) {
      ++n;
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    ++n;
    if (c == '"') in_string = true;
  }
  return n;
}

namespace {

struct Frame {
  bool object = false;
  size_t index = 0;                // next element index (arrays)
  std::string name;                // path of this container
  std::vector<std::string> keys;   // keys seen (objects)
  std::string pending_key;         // last key, names the next value
};

class DupHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::string found;

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_array_begin(boost::json::error_code&) { return open(false); }
  bool on_array_end(std::size_t, boost::json::error_code&) { return close(); }
  bool on_object_begin(boost::json::error_code&) { return open(true); }
  bool on_object_end(std::size_t, boost::json::error_code&) { return close(); }
  bool on_string_part(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
  bool on_string(boost::json::string_view, std::size_t, boost::json::error_code&) { return scalar(); }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code& ec) {
    key_.append(s.data(), s.size());
    Frame& f = stack_.back();
    for (const std::string& k : f.keys) {
      if (k == key_) {
        found = child_path(f, key_);
        ec = boost::json::error::extra_data;  // any error stops the parse early
        return false;
      }
    }
    f.keys.push_back(key_);
    f.pending_key = std::move(key_);
    key_.clear();
    return true;
  }
  bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_int64(std::int64_t, boost::json::string_view, boost::json::error_code&) { return scalar(); }
  bool on_uint64(std::uint64_t, boost::json::string_view, boost::json::error_code&) { return scalar(); }
  bool on_double(double, boost::json::string_view, boost::json::error_code&) { return scalar(); }
  bool on_bool(bool, boost::json::error_code&) { return scalar(); }
  bool on_null(boost::json::error_code&) { return scalar(); }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

 private:
  static std::string child_path(const Frame& f, const std::string& key) {
    return f.name.empty() ? key : f.name + "." + key;
  }
  // Path of the value that starts now, in the innermost container.
  std::string next_path() {
    if (stack_.empty()) return {};
    Frame& f = stack_.back();
    if (f.object) return child_path(f, f.pending_key);
    return f.name + "[" + std::to_string(f.index++) + "]";
  }
  bool open(bool object) {
    Frame f;
    f.object = object;
    f.name = next_path();
    stack_.push_back(std::move(f));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
  bool scalar() {
    if (!stack_.empty() && !stack_.back().object) ++stack_.back().index;
    return true;
  }

  std::vector<Frame> stack_;
  std::string key_;
};

}  // namespace

std::string first_duplicate_key(std::string_view json) {
  boost::json::basic_parser<DupHandler> p(boost::json::parse_options{});
  boost::json::error_code ec;
  p.write_some(false, json.data(), json.size(), ec);
  return p.handler().found;
}

}  // namespace sluice::iam::policy
