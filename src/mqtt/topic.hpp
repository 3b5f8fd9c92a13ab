#pragma once
// Topic names and filters (MQTT spec 4.7), codec-level rules only.
#include <string_view>

namespace sluice::mqtt {

// Well-formed UTF-8 as MQTT requires: no surrogates, no overlongs, no U+0000.
// When strict, also rejects control characters U+0001..U+001F and U+007F..U+009F
// (the spec allows a receiver to), which Sluice does not do by default.
bool valid_utf8(std::string_view s, bool strict = false);

// A topic name for PUBLISH: non-empty, no '+' or '#', valid UTF-8, at most 65535 bytes.
bool valid_topic_name(std::string_view topic);

// A subscription filter: non-empty, '+' occupies a whole level, '#' only as the
// whole last level, valid UTF-8. "$share/<group>/<filter>" is valid when group
// is non-empty, has no '+', '#' or '/', and filter is valid.
bool valid_topic_filter(std::string_view filter);

// Splits "$share/<group>/<filter>"; returns false if `filter` is not shared.
bool parse_shared(std::string_view filter, std::string_view& group, std::string_view& inner);

// Does `filter` match `topic`? Wildcards do not match a topic starting with '$'
// at the first level (spec 4.7.2). For a shared subscription pass the inner
// filter (from parse_shared): "$share/..." itself is matched literally.
bool topic_matches(std::string_view filter, std::string_view topic);

}  // namespace sluice::mqtt
