#pragma once
// MQTT topics and filters as NATS subjects (docs/cluster.md, "Topics to subjects").
//
// A topic "a/b/c" of namespace "ns" is the subject "<prefix>.<ns>.a.b.c". Each
// level (and the namespace) is escaped into a NATS token: bytes outside
// [A-Za-z0-9-] become '_' and two upper-case hex digits, and an empty level is
// "_" alone, so the mapping is total and reversible and no token is empty or
// holds '.', '*', '>' or whitespace. A filter maps the same way, '+' to '*'
// and '#' to '>'; "a/#" also matches "a", so it needs two subjects.
//
// NATS only narrows what reaches a node: the node re-matches every message
// exactly against its own trie, so a subject may match more than its topic
// (never less).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cluster {

// One level (or a namespace id) as a NATS token.
std::string escape_token(std::string_view level);
// The inverse; nullopt for a token escape_token cannot have made.
std::optional<std::string> unescape_token(std::string_view token);

// "<prefix>.<ns>.<levels...>" for a topic name (no wildcards).
std::string topic_subject(std::string_view prefix, std::string_view ns, std::string_view topic);
// The topic of a subject made by topic_subject (prefix and namespace removed).
std::optional<std::string> subject_topic(std::string_view subject, std::string_view prefix, std::string_view ns);

// The subjects a node subscribes to for an MQTT filter ("$share/g/" removed
// first): one, or two for a filter ending in "/#" ("a/#" matches "a" too).
std::vector<std::string> filter_subjects(std::string_view prefix, std::string_view ns, std::string_view filter);

// The longest subject a node publishes on; longer topics go to long_subject()
// (docs/cluster.md): NATS refuses a control line past its limit.
constexpr size_t kMaxSubject = 2048;
std::string long_subject(std::string_view prefix, std::string_view ns);
// Whether a filter could match a topic too long for its own subject (then the
// node also subscribes to long_subject): one with a wildcard, or one that is
// long itself.
bool may_match_long_topics(std::string_view filter);

}  // namespace sluice::cluster
