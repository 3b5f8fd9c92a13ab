#include "cluster/subjects.hpp"

namespace sluice::cluster {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool plain(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls f(level) for each '/'-separated level (an empty topic is one empty level).
template <class F>
void for_each_level(std::string_view topic, F&& f) {
  size_t start = 0;
  while (true) {
    const size_t slash = topic.find('/', start);
    f(topic.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return;
    start = slash + 1;
  }
}

// escape_token(level) appended to `out`: a subject is built in one string,
// not a string per level (this runs for every message a node sends on).
void append_token(std::string& out, std::string_view level) {
  if (level.empty()) {
    out += '_';
    return;
  }
  for (unsigned char c : level) {
    if (plain(c)) {
      out += static_cast<char>(c);
    } else {
      out += '_';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

std::string head(std::string_view prefix, std::string_view ns) {
  std::string s(prefix);
  s += '.';
  append_token(s, ns);
  return s;
}

}  // namespace

std::string escape_token(std::string_view level) {
  std::string out;
  out.reserve(level.size());
  append_token(out, level);
  return out;
}

std::optional<std::string> unescape_token(std::string_view token) {
  if (token == "_") return std::string();
  if (token.empty()) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (plain(c)) {
      out += static_cast<char>(c);
      continue;
    }
    if (c != '_' || i + 2 >= token.size()) return std::nullopt;
    const int hi = hex_value(token[i + 1]), lo = hex_value(token[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const unsigned char b = static_cast<unsigned char>(hi * 16 + lo);
    if (plain(b)) return std::nullopt;  // escape_token never escapes a plain byte
    out += static_cast<char>(b);
    i += 2;
  }
  return out;
}

std::string topic_subject(std::string_view prefix, std::string_view ns, std::string_view topic) {
  std::string s;
  s.reserve(prefix.size() + ns.size() + topic.size() + 8);
  s += prefix;
  s += '.';
  append_token(s, ns);
  for_each_level(topic, [&](std::string_view level) {
    s += '.';
    append_token(s, level);
  });
  if (s.size() > kMaxSubject) return long_subject(prefix, ns);
  return s;
}

std::optional<std::string> subject_topic(std::string_view subject, std::string_view prefix, std::string_view ns) {
  const std::string h = head(prefix, ns) + ".";
  if (subject.substr(0, h.size()) != h) return std::nullopt;
  std::string topic;
  std::string_view rest = subject.substr(h.size());
  bool first = true;
  while (true) {
    const size_t dot = rest.find('.');
    auto level = unescape_token(rest.substr(0, dot));
    if (!level) return std::nullopt;
    if (!first) topic += '/';
    topic += *level;
    first = false;
    if (dot == std::string_view::npos) return topic;
    rest = rest.substr(dot + 1);
  }
}

std::vector<std::string> filter_subjects(std::string_view prefix, std::string_view ns, std::string_view filter) {
  std::string s = head(prefix, ns);
  bool ends_in_hash = false;
  for_each_level(filter, [&](std::string_view level) {
    s += '.';
    if (level == "+") {
      s += '*';
    } else if (level == "#") {
      s += '>';
      ends_in_hash = true;
    } else {
      append_token(s, level);
    }
  });
  if (!ends_in_hash) return {s};
  // "a/#" matches "a" as well; "#" alone (s = "<head>.>") matches every topic already.
  const std::string parent = s.substr(0, s.size() - 2);
  if (parent == head(prefix, ns)) return {s};
  return {s, parent};
}

std::string long_subject(std::string_view prefix, std::string_view ns) { return head(prefix, ns) + ".~"; }

bool may_match_long_topics(std::string_view filter) {
  // A wildcard level can stand for a level of any length; a filter without one
  // matches only itself, long only if the filter is.
  return filter.find_first_of("#+") != std::string_view::npos || filter.size() * 3 + 64 > kMaxSubject;
}

}  // namespace sluice::cluster
